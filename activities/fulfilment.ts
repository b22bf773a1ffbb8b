import { ApplicationFailure, log } from '@temporalio/activity';
import { keepHeartbeating } from './heartbeat';
import type { Db } from '../db/connection';
import { createFulfilmentRepository, type OrderPosition } from '../db/repositories/fulfilment';
import { ErrorType } from '../domain/errors';
import { compensationFen, warningLeadMs, type FulfilmentPolicy } from '../domain/fulfilment';
import type { PlatformClient, PlatformRejectionDetails } from '../platform/types';
import type { CompensationTotals, DueTotals, ExceptionTotals, ScanStep, WarningTotals } from '../workflows/fulfilment-scan.defs';

export interface FulfilmentActivityDeps {
  db: Db;
  platform: PlatformClient;
  policy: FulfilmentPolicy;
}

// Orders per statement: a page of 2,000 deadlines is judged in tens of milliseconds, and
// the heartbeat after each page keeps a 10M-order first pass visibly alive.
const DEFAULT_PAGE_SIZE = 2_000;
// Platform calls in flight at once per activity: enough to hide latency, few enough not to flood.
const CALLS_IN_FLIGHT = 8;
/**
 * The due watermark stays this far behind the scan's instant: the order import runs every
 * 5 minutes, so a shipment made just before its deadline is in `orders` well within it and
 * is never judged late for the import's lag.
 */
export const FEED_GRACE_MS = 30 * 60_000;
const MAX_REFUSAL_LENGTH = 500;

const isRefusal = (err: unknown): err is ApplicationFailure => err instanceof ApplicationFailure && err.type === ErrorType.PlatformRejected;

/** The refusal as ops read it: the platform's error code when it sent one, otherwise the failure's message. */
function refusalReason(err: ApplicationFailure): string {
  const body = (err.details?.[0] as PlatformRejectionDetails | undefined)?.body as { error?: unknown } | undefined;
  const reason = typeof body?.error === 'string' ? body.error : err.message;
  return reason.replace(/\u0000/g, '').slice(0, MAX_REFUSAL_LENGTH);
}

/**
 * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and
 * the calls in flight are waited for before the failure is thrown: nothing of a failed attempt
 * still writes while its retry runs.
 */
async function inFlight<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const outcomes = await Promise.allSettled(lanes);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
}

export function createFulfilmentActivities({ db, platform, policy }: FulfilmentActivityDeps) {
  const repo = createFulfilmentRepository(db);

  return {
    /**
     * Judges every order whose deadline passed (up to the feed's grace before `asOf`): counts
     * it due on its shop's day and records it late if it did not ship in time. The watermark
     * commits with each page, so a retried attempt goes on where the last one stopped.
     */
    async recordDueOrders(step: ScanStep): Promise<DueTotals> {
      const heartbeat = keepHeartbeating<DueTotals>();
      const totals: DueTotals = heartbeat.resumed ?? { pages: 0, due: 0, late: 0, shippedSinceLate: 0, correctedLate: 0 };
      const upTo = new Date(Date.parse(step.asOf) - FEED_GRACE_MS);
      try {
        for (;;) {
          const page = await repo.recordDuePage(upTo, step.pageSize ?? DEFAULT_PAGE_SIZE);
          totals.pages += 1;
          totals.due += page.due;
          totals.late += page.late;
          heartbeat.progress(totals);
          if (!page.more) break;
        }
        const filled = await repo.fillLateShipments();
        totals.shippedSinceLate += filled.shipped;
        totals.correctedLate += filled.corrected;
        return totals;
      } finally {
        heartbeat.stop();
      }
    },

    /**
     * Warns merchants of paid orders still unshipped whose deadline is within the warning
     * lead (12 h with the defaults, i.e. 36 h after payment), one notification per order
     * under `ship-warning:<orderId>`: a warning is recorded first, then sent, so a retry
     * sends what is unsent and the platform replays what was sent.
     */
    async warnMerchants(step: ScanStep): Promise<WarningTotals> {
      const heartbeat = keepHeartbeating<WarningTotals>();
      const totals: WarningTotals = heartbeat.resumed ?? { recorded: 0, sent: 0, refused: 0 };
      const pageSize = step.pageSize ?? DEFAULT_PAGE_SIZE;
      try {
        for (let more = true; more; ) {
          const page = await repo.recordWarningsPage(new Date(step.asOf), warningLeadMs(policy), pageSize);
          totals.recorded += page.recorded;
          more = page.more;
          heartbeat.progress(totals);
        }

        let afterOrderId = '';
        for (;;) {
          const unsent = await repo.warningsToSend(afterOrderId, pageSize);
          if (unsent.length === 0) return totals;
          await inFlight(unsent, CALLS_IN_FLIGHT, async (w) => {
            try {
              const accepted = await platform.notify(
                // Order id and deadline only: no buyer data goes to the notification or the history.
                { recipient: 'merchant', merchantId: w.merchant_id, template: 'shipping_deadline_warning', data: { orderId: w.order_id, shopId: w.shop_id, shipBy: new Date(w.ship_by).toISOString() } },
                `ship-warning:${w.order_id}`,
              );
              await repo.markWarningSent(w.order_id, accepted.notificationId, new Date(accepted.acceptedAt));
              totals.sent += 1;
            } catch (err) {
              // A refusal is final: thrown, it would fail every run at this first step and stop
              // the deadlines and compensations behind it. Kept with its reason instead.
              if (!isRefusal(err)) throw err;
              await repo.markWarningRefused(w.order_id, refusalReason(err));
              totals.refused += 1;
              log.warn('shipping warning refused by the platform', { orderId: w.order_id, reason: refusalReason(err) });
            }
          });
          afterOrderId = unsent[unsent.length - 1]!.order_id;
          heartbeat.progress(totals);
        }
      } finally {
        heartbeat.stop();
      }
    },

    /**
     * Records logistics exceptions with their compensation (compensationFen): shipped orders
     * whose tracking has been silent for the policy's window, and orders the carrier reported
     * lost or damaged. Each (order, kind) is recorded once: its key is the table's.
     */
    async detectLogisticsExceptions(step: ScanStep): Promise<ExceptionTotals> {
      const heartbeat = keepHeartbeating<ExceptionTotals>();
      const totals: ExceptionTotals = heartbeat.resumed ?? { noTracking: 0, reported: 0 };
      const pageSize = step.pageSize ?? DEFAULT_PAGE_SIZE;
      const silentBefore = new Date(Date.parse(step.asOf) - policy.trackingSilenceHours * 3_600_000);
      const withAmount = <R extends { amount_fen: number }>(rows: R[]) => rows.map((r) => ({ ...r, compensationFen: compensationFen(Number(r.amount_fen), policy) }));
      try {
        let after: OrderPosition | null = null;
        for (;;) {
          const silent = await repo.silentOrders(silentBefore, after, pageSize);
          totals.noTracking += await repo.recordExceptions(withAmount(silent));
          heartbeat.progress(totals);
          if (silent.length < pageSize) break;
          const last = silent[silent.length - 1]!;
          after = { at: new Date(last.at).toISOString(), orderId: last.id };
        }
        let afterOrderId = '';
        for (;;) {
          const reported = await repo.reportedExceptions(afterOrderId, pageSize);
          totals.reported += await repo.recordExceptions(withAmount(reported));
          heartbeat.progress(totals);
          if (reported.length < pageSize) return totals;
          afterOrderId = reported[reported.length - 1]!.id;
        }
      } finally {
        heartbeat.stop();
      }
    },

    /**
     * Pays each pending compensation through the platform under `compensation:<orderId>:<kind>`.
     * A refusal is final and recorded with its reason (never retried); an outage fails the
     * attempt, and its retry replays the calls already answered under the same keys.
     */
    async payCompensations(step: ScanStep): Promise<CompensationTotals> {
      const heartbeat = keepHeartbeating<CompensationTotals>();
      const totals: CompensationTotals = heartbeat.resumed ?? { paid: 0, paidFen: 0, refused: 0 };
      const pageSize = step.pageSize ?? DEFAULT_PAGE_SIZE;
      try {
        let after: { orderId: string; kind: string } | null = null;
        for (;;) {
          const pending = await repo.pendingCompensations(after, pageSize);
          if (pending.length === 0) return totals;
          await inFlight(pending, CALLS_IN_FLIGHT, async (c) => {
            const key = `compensation:${c.order_id}:${c.kind}`;
            const amountFen = Number(c.compensation_fen);
            try {
              const paid = await platform.compensateOrder(c.order_id, { shopId: c.shop_id, kind: c.kind, amountFen, reason: `logistics exception: ${c.kind}` }, key);
              await repo.settleCompensation(c.order_id, c.kind, { paid: paid.compensationId }, new Date());
              totals.paid += 1;
              totals.paidFen += amountFen;
            } catch (err) {
              if (!isRefusal(err)) throw err;
              await repo.settleCompensation(c.order_id, c.kind, { refused: refusalReason(err) }, new Date());
              totals.refused += 1;
            }
          });
          const last = pending[pending.length - 1]!;
          after = { orderId: last.order_id, kind: last.kind };
          heartbeat.progress(totals);
        }
      } finally {
        heartbeat.stop();
      }
    },
  };
}

export type FulfilmentActivities = ReturnType<typeof createFulfilmentActivities>;
