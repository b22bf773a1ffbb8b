import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { createAfterSalesRepository, type TicketRow } from '../db/repositories/after-sales';
import { escalatedDueAt, escalationNoticeKey } from '../domain/after-sales';
import { ErrorType } from '../domain/errors';
import type { PlatformClient } from '../platform/types';
import type { AfterSalesEscalationResult } from '../workflows/after-sales-escalation.defs';
import { keepHeartbeating } from './heartbeat';

export interface AfterSalesActivityDeps {
  db: Db;
  platform: PlatformClient;
}

// 500 tickets a statement: one UPDATE of that many rows takes milliseconds, and a retried
// attempt redoes at most one page of notices (each a keyed platform call).
const DEFAULT_PAGE_SIZE = 500;

/** The template of the notice ops get; business keys only (no consumer's words, no contact). */
export const ESCALATION_TEMPLATE = 'after_sales_ticket_escalated';

interface ScanProgress {
  phase: 'escalate' | 'notify';
  after: string;
  counts: Omit<AfterSalesEscalationResult, 'asOf'>;
}

export function createAfterSalesActivities({ db, platform }: AfterSalesActivityDeps) {
  const tickets = createAfterSalesRepository(db);

  /** Tells ops a ticket reached its level; the key makes a repeat (a retry, a rerun) the same notice. */
  async function notifyEscalation(t: TicketRow): Promise<'sent' | 'refused'> {
    try {
      await platform.notify(
        {
          recipient: 'ops',
          merchantId: t.merchant_id,
          template: ESCALATION_TEMPLATE,
          // Only what is fixed for a ticket and level (the assignee is not: an agent may take it
          // over): a notice sent again under its key must carry the same body, or the platform
          // refuses it as a reused key and ops are never told.
          data: { ticketId: t.id, level: t.escalation_level, kind: t.kind, category: t.category, orderId: t.order_id, shopId: t.shop_id, dueAt: new Date(t.due_at).toISOString() },
        },
        escalationNoticeKey(t.id, t.escalation_level),
      );
    } catch (err) {
      if (!(err instanceof ApplicationFailure && err.type === ErrorType.PlatformRejected)) throw err;
      // Not marked: the next scan tries again. One refused notice never stops the others.
      Context.current().log.warn('ticket escalation notice refused by the platform', { ticketId: t.id, level: t.escalation_level });
      return 'refused';
    }
    await tickets.markNotified(t.id, t.escalation_level);
    return 'sent';
  }

  return {
    /**
     * Escalates every unresolved ticket past due at `asOf` one level (due again 24 h later),
     * a keyset page per statement, then notifies ops of every escalation not yet told, once per
     * ticket and level. Where it got to rides in the heartbeat, so a retry reads on from there;
     * a page redone escalates nothing twice (escalated tickets are no longer due at `asOf`).
     */
    async escalateOverdueTickets(input: { asOf: string; pageSize?: number }): Promise<AfterSalesEscalationResult> {
      const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
      // A page of none would never reach the end; a manual start is the only way to send one.
      if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
        throw ApplicationFailure.nonRetryable(`pageSize must be a whole number of at least 1, not ${pageSize}`, ErrorType.DataRejected);
      }
      const asOf = new Date(input.asOf);
      const nextDue = new Date(escalatedDueAt(asOf.getTime()));
      const heartbeat = keepHeartbeating<ScanProgress>();
      const progress: ScanProgress = heartbeat.resumed ?? { phase: 'escalate', after: '', counts: { escalated: 0, notified: 0, refused: 0 } };
      const { counts } = progress;
      try {
        while (progress.phase === 'escalate') {
          const page = await tickets.escalatePage(asOf, nextDue, progress.after, pageSize);
          counts.escalated += page.ids.length;
          // Past the last overdue ticket: the notices start from the first id.
          progress.after = page.scanned ?? '';
          if (page.scanned === null) progress.phase = 'notify';
          heartbeat.progress(progress);
        }
        for (;;) {
          const page = await tickets.unnotified(progress.after, pageSize);
          for (const t of page) {
            if ((await notifyEscalation(t)) === 'sent') counts.notified += 1;
            else counts.refused += 1;
          }
          const last = page.at(-1);
          if (last) progress.after = last.id;
          heartbeat.progress(progress);
          if (page.length < pageSize) return { asOf: asOf.toISOString(), ...counts };
        }
      } finally {
        heartbeat.stop();
      }
    },
  };
}

export type AfterSalesActivities = ReturnType<typeof createAfterSalesActivities>;
