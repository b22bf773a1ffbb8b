import { continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SettlementActivities } from '../activities/settlement';
import type { OrderImportActivities } from '../activities/order-import';
import { settlementPeriod } from '../domain/settlement';
import { ErrorType } from '../domain/errors';
import { businessStatus } from './business-status';
import { handOverScheduledRun } from './hand-over';
import {
  monthlySettlementProcess,
  settlementProgressQuery,
  type SettlementHandOver,
  type SettlementInput,
  type SettlementLaneCursor,
  type SettlementProgress,
  type SettlementResult,
  SETTLEMENT_DEFAULT_LANES,
} from './settlement.defs';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';

// Each batch settles up to a few thousand merchants with set-based SQL, heartbeating its
// cursor; a retry after a crash resumes from the last range it finished.
const batches = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '30 minutes',
  // Through the task queue, not eagerly to the worker whose workflow task scheduled them:
  // eagerly, every lane's batch went to that one worker while the others sat idle.
  allowEagerDispatch: false,
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

const bookkeeping = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

// The order feed, drained before a run starts (the scheduled import may run beside it: the
// feed's cursor is locked per page, so each event is applied once).
const feed = proxyActivities<OrderImportActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.PlatformRejected, ErrorType.OrderFeedInvalid] },
});

// A batch costs about 6 history events; far below the limits, but a run over millions of
// merchants continues as new rather than grow without bound.
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

// From this change a run settles in lanes (settleInLanes). Runs recorded before it settled one
// batch after another from the start and replay that way; a run continued as new by the old
// code carries `after` and no lanes, and goes on one batch at a time.
export const SETTLEMENT_LANES = 'settlement-lanes';

/**
 * Settles one period for every merchant: statements in batches of merchant ranges (each a
 * few INSERT … SELECT … GROUP BY statements, never an activity per order), then payouts
 * keyed `settle:<merchant>:<period>`. A statement and a payout exist at most once per
 * merchant and period whatever crashes, retries or re-runs happen: the database keys them.
 */
export async function monthlySettlement(input: SettlementInput = {}): Promise<SettlementResult | SettlementHandOver> {
  const period = input.period ?? settlementPeriod(new Date()).period;
  // Only runs the schedule starts carry `scheduled`; none recorded before it did (replay-safe).
  if (input.scheduled) return { period, ...(await handOverScheduledRun(monthlySettlementProcess, period, { period })) };
  const progress: SettlementProgress = input.progress ?? { statements: 0, payouts: 0, missingRate: [] };
  let after = input.after ?? '';
  let lanes = input.laneCursors;
  setHandler(settlementProgressQuery, () => ({ ...progress, period, after, ...(lanes ? { lanes } : {}) }));

  // A run started afresh, not continued as new (by the old code with `after`, or with lanes).
  const fresh = input.after === undefined && input.laneCursors === undefined;
  // Orders confirmed or refunded up to the run belong in it: bring the feed up to date first.
  if (fresh) await feed.importOrders({});
  const run = fresh ? await bookkeeping.startRun({ period }) : undefined;
  let merchantsDone = progress.merchantsDone ?? run?.merchantsDone ?? 0;
  let totals = progress.totals ?? {};

  if (fresh && patched(SETTLEMENT_LANES)) {
    const wanted = input.lanes ?? SETTLEMENT_DEFAULT_LANES;
    const bounds = wanted > 1 ? await bookkeeping.settlementLanes({ period, lanes: wanted }) : [{ after: '', upTo: null }];
    lanes = bounds.map((b) => ({ ...b, done: false }));
  }
  if (lanes) {
    progress.merchantsDone = merchantsDone;
    progress.totals = totals;
    await settleInLanes(period, lanes, progress);
  } else {
    for (;;) {
      const batch = await batches.settleBatch({ period, after, merchantsDone, totals });
      progress.statements += batch.statements;
      progress.missingRate.push(...batch.missingRate);
      after = batch.after;
      merchantsDone = batch.merchantsDone;
      totals = batch.totals;
      progress.merchantsDone = merchantsDone;
      progress.totals = totals;
      if (batch.done) break;
      if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
        await continueAsNew<typeof monthlySettlement>({ period, after, progress });
      }
    }
  }

  if (lanes) {
    // Lanes finish in any order: the failures are listed by merchant whatever the lanes were.
    progress.missingRate.sort((a, b) => compare(a.merchantId, b.merchantId) || compare(a.category, b.category));
  }
  const paid = await batches.payOutStatements({ period });
  progress.payouts += paid.payouts;
  await bookkeeping.completeRun({ period, missingRate: progress.missingRate });
  // A run the API started shows `running` from its start; it ends as its run row does.
  businessStatus().final('completed');
  return { period, ...progress, alreadySettled: (run?.alreadySettled ?? false) && progress.statements === 0 };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Runs every lane's chain of batches at once (each batch an activity, so the workers on the
 * task queue share them) and merges what they report into `progress`. Merchants' statements
 * are independent and the lanes disjoint, so the statements are those one lane would write.
 * The counts add up; `merchantsDone` and `totals` are the run row's, which each range updates
 * under its lock (runs.ts recordRangeSettled): the largest count reported is the latest.
 * Continues as new, every lane's cursor carried, once each lane has finished its batch.
 */
async function settleInLanes(period: string, lanes: SettlementLaneCursor[], progress: SettlementProgress): Promise<void> {
  let handOver = false;
  await Promise.all(
    lanes.map(async (lane) => {
      while (!lane.done && !handOver) {
        const batch = await batches.settleBatch({ period, after: lane.after, upTo: lane.upTo, merchantsDone: progress.merchantsDone, totals: progress.totals });
        progress.statements += batch.statements;
        progress.missingRate.push(...batch.missingRate);
        lane.after = batch.after;
        lane.done = batch.done;
        if (batch.merchantsDone >= (progress.merchantsDone ?? 0)) {
          progress.merchantsDone = batch.merchantsDone;
          progress.totals = batch.totals;
        }
        if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) handOver = true;
      }
    }),
  );
  if (lanes.some((lane) => !lane.done)) await continueAsNew<typeof monthlySettlement>({ period, laneCursors: lanes, progress });
}
