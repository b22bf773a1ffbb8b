import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { createQualificationRepository, type QualificationRow } from '../db/repositories/qualifications';
import { shanghaiDate } from '../domain/calendar';
import { ErrorType, ViolationNotOpened } from '../domain/errors';
import { expiryNoticeKey, noticeHorizon, qualificationCaseReference, qualificationStatusOn, type QualificationCheckCounts, type QualificationFinding } from '../domain/qualifications';
import type { PlatformClient } from '../platform/types';
import type { QualificationCheckResult } from '../workflows/qualification-check.defs';
import { keepHeartbeating } from './heartbeat';
import { openViolationCase } from './violation-open';

export interface QualificationActivityDeps {
  db: Db;
  platform: PlatformClient;
  /** Opens the cases expired licences call for; absent only in workers that run no check. */
  temporal?: Client;
}

/** Who opens the cases the check finds, as the case and its audit name them. */
export const QUALIFICATION_CHECK_ACTOR = 'system:qualification-check';

// 500 qualifications a page: each finding is a platform call or a case start, so a page is a
// few seconds of work at most and a retried attempt redoes little.
const DEFAULT_PAGE_SIZE = 500;

const findingOf = (q: QualificationRow): QualificationFinding => ({ shopId: q.shop_id, kind: q.kind, expiresOn: q.expires_on });

interface CheckProgress {
  after: string;
  counts: QualificationCheckCounts;
}

export function createQualificationActivities({ db, platform, temporal }: QualificationActivityDeps) {
  const qualifications = createQualificationRepository(db);

  /**
   * Tells the merchant once per shop, kind and expiry (the same licence recorded again is not
   * news): the notice row, then the platform's key, keep it to one. A notice this run's failed
   * attempt sent counts as sent by this run. A notification the platform refuses is logged and
   * counted as skipped, not recorded: the next run tries again, and one merchant never stops the
   * month's check.
   */
  async function notifyExpiring(q: QualificationRow, month: string, runId: string): Promise<'sent' | 'known' | 'refused'> {
    const finding = findingOf(q);
    const known = await qualifications.noticeOf(finding, 'expiring');
    if (known) return known.run_id === runId ? 'sent' : 'known';
    try {
      await platform.notify(
        { recipient: 'merchant', merchantId: q.merchant_id, template: 'qualification_expiring', data: { qualificationId: q.id, kind: q.kind, shopId: q.shop_id, expiresOn: q.expires_on } },
        expiryNoticeKey(finding),
      );
    } catch (err) {
      if (!(err instanceof ApplicationFailure && err.type === ErrorType.PlatformRejected)) throw err;
      Context.current().log.warn('qualification expiry notice refused by the platform', { qualificationId: q.id });
      return 'refused';
    }
    await qualifications.recordNotice({ finding, qualificationId: q.id, notice: 'expiring', month, runId });
    return 'sent';
  }

  /**
   * Opens the qualification-mismatch case once per shop, kind and expiry. A refusal (a closed
   * shop has nothing left to restrict; any other refusal would refuse every retry alike) is
   * recorded with its reason and not tried again: 'skipped', then and on every later run.
   */
  async function openCase(q: QualificationRow, month: string, runId: string, asOf: Date): Promise<'opened' | 'known' | 'skipped'> {
    const finding = findingOf(q);
    const opened = await qualifications.noticeOf(finding, 'case_opened');
    if (opened) return opened.run_id === runId ? 'opened' : 'known';
    if (await qualifications.noticeOf(finding, 'case_refused')) return 'skipped';
    if (!temporal) throw ApplicationFailure.nonRetryable('the qualification check needs a Temporal client to open cases', ErrorType.RecordNotFound);
    const reference = qualificationCaseReference(finding);
    try {
      const result = await openViolationCase(
        { db, temporal, taskQueue: Context.current().info.taskQueue },
        {
          merchantId: q.merchant_id,
          shopId: q.shop_id,
          type: 'qualification_mismatch',
          reportedLevel: 'general',
          evidence: { summary: `${q.kind} ${q.id} expired on ${q.expires_on} and has not been renewed`, productIds: [] },
          openedBy: QUALIFICATION_CHECK_ACTOR,
          reference,
          // The finding is the same whenever it is found: the reference names all of it.
          fingerprint: createHash('sha256').update(reference).digest('hex'),
        },
        asOf,
      );
      await qualifications.recordNotice({ finding, qualificationId: q.id, notice: 'case_opened', caseId: result.caseId, month, runId });
      return result.replayed ? 'known' : 'opened';
    } catch (err) {
      if (!(err instanceof ViolationNotOpened)) throw err;
      Context.current().log.warn('qualification case not opened', { qualificationId: q.id, reason: err.reason });
      await qualifications.recordNotice({ finding, qualificationId: q.id, notice: 'case_refused', reason: err.reason, month, runId });
      return 'skipped';
    }
  }

  return {
    /**
     * Checks every current qualification due within the notice window, a page at a time, and
     * keeps the month's counts in qualification_check_runs. It judges by the Shanghai day of
     * `asOf`, the workflow's time, so a retry judges the same day; where it got to rides in the
     * heartbeat.
     */
    async checkQualifications(input: { month: string; workflowId: string; asOf: string; pageSize?: number }): Promise<QualificationCheckResult> {
      const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
      const heartbeat = keepHeartbeating<CheckProgress>();
      const asOf = new Date(input.asOf);
      const checkedOn = shanghaiDate(asOf);
      let progress = heartbeat.resumed;
      if (!progress) {
        progress = { after: '', counts: { checked: 0, expiring: 0, expired: 0, notified: 0, casesOpened: 0, skipped: 0 } };
        await qualifications.startRun(input.month, input.workflowId, checkedOn);
      }
      const { counts } = progress;
      // Notices and cases this run's earlier attempts recorded count as this run's.
      const runId = Context.current().info.workflowExecution?.runId ?? input.workflowId;
      const horizon = noticeHorizon(checkedOn);
      try {
        for (;;) {
          const page = await qualifications.dueBy(horizon, progress.after, pageSize);
          for (const q of page) {
            counts.checked += 1;
            const status = qualificationStatusOn(q.expires_on, checkedOn);
            if (status === 'expiring') {
              counts.expiring += 1;
              const outcome = await notifyExpiring(q, input.month, runId);
              if (outcome === 'sent') counts.notified += 1;
              if (outcome === 'refused') counts.skipped += 1;
            } else if (status === 'expired') {
              counts.expired += 1;
              const outcome = await openCase(q, input.month, runId, asOf);
              if (outcome === 'opened') counts.casesOpened += 1;
              if (outcome === 'skipped') counts.skipped += 1;
            }
          }
          const last = page.at(-1);
          if (last) progress.after = last.id;
          await qualifications.saveRun(input.month, counts, page.length < pageSize);
          heartbeat.progress(progress);
          if (page.length < pageSize) return { month: input.month, checkedOn, ...counts };
        }
      } finally {
        heartbeat.stop();
      }
    },
  };
}

export type QualificationActivities = ReturnType<typeof createQualificationActivities>;
