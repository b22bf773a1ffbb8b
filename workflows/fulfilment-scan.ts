import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { FulfilmentActivities } from '../activities/fulfilment';
import { ErrorType } from '../domain/errors';
import type { FulfilmentScanInput, FulfilmentScanResult, ScanStep } from './fulfilment-scan.defs';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';

// Each step is one activity paging through its set with a keyset cursor and heartbeats, so
// 10M open orders cost a few statements per 2,000 orders, never a workflow or an activity per
// order. An hour covers a first pass over millions of deadlines; the next scheduled run
// (overlap SKIP) waits for this one. A refused warning or compensation is recorded, not
// thrown, so no step retries a permanent refusal; an outage is retried with backoff, but for
// about 5 minutes only (10 attempts): an error that never clears would otherwise hold the run,
// and with it every scheduled run after it, for ever and out of sight. A failed run shows in
// the schedule and the workflow list, and the next one goes on from the committed watermarks.
const scan = proxyActivities<FulfilmentActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [ErrorType.PlatformRejected, ErrorType.DataRejected],
  },
});

/**
 * One pass of the 48-hour shipping rules over the order feed: warnings first (they are due
 * soonest), then the deadlines that passed (late records and the shops' shipping rates),
 * then logistics exceptions and their compensation. Started every 10 minutes by the
 * `fulfilment-scan` schedule; every step may run twice without doing anything twice.
 */
export async function fulfilmentScan(input: FulfilmentScanInput = {}): Promise<FulfilmentScanResult> {
  // The workflow's clock is deterministic (the start's time on replay): one instant for every step.
  const now = new Date();
  // A manual run judges at a given instant, but never one still to come: the watermarks it
  // moves do not come back, so every order due by then would be judged late for good.
  if (input.asOf !== undefined && !(Date.parse(input.asOf) <= now.getTime())) {
    throw ApplicationFailure.nonRetryable(`asOf must be a past instant: ${input.asOf}`, ErrorType.DataRejected);
  }
  const step: ScanStep = { asOf: input.asOf ?? now.toISOString(), pageSize: input.pageSize };
  const warnings = await scan.warnMerchants(step);
  const due = await scan.recordDueOrders(step);
  const exceptions = await scan.detectLogisticsExceptions(step);
  const compensations = await scan.payCompensations(step);
  return { asOf: step.asOf, due, warnings, exceptions, compensations };
}
