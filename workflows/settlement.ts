import { continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SettlementActivities } from '../activities/settlement';
import type { OrderImportActivities } from '../activities/order-import';
import { settlementPeriod } from '../domain/settlement';
import { ErrorType } from '../domain/errors';
import { businessStatus } from './business-status';
import { handOverScheduledRun } from './hand-over';
import { monthlySettlementProcess, settlementProgressQuery, type SettlementHandOver, type SettlementInput, type SettlementProgress, type SettlementResult } from './settlement.defs';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';

// Each batch settles up to a few thousand merchants with set-based SQL, heartbeating its
// cursor; a retry after a crash resumes from the last range it finished.
const batches = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '30 minutes',
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
  setHandler(settlementProgressQuery, () => ({ ...progress, period, after }));

  // Orders confirmed or refunded up to the run belong in it: bring the feed up to date first.
  if (input.after === undefined) await feed.importOrders({});
  const run = input.after === undefined ? await bookkeeping.startRun({ period }) : undefined;
  let merchantsDone = progress.merchantsDone ?? run?.merchantsDone ?? 0;
  let totals = progress.totals ?? {};

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

  const paid = await batches.payOutStatements({ period });
  progress.payouts += paid.payouts;
  await bookkeeping.completeRun({ period, missingRate: progress.missingRate });
  // A run the API started shows `running` from its start; it ends as its run row does.
  businessStatus().final('completed');
  return { period, ...progress, alreadySettled: (run?.alreadySettled ?? false) && progress.statements === 0 };
}
