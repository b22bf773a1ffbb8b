import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { OrderPartitionActivities } from '../activities/order-partitions';
import { DEFAULT_MONTHS_AHEAD, monthsAheadRefusal } from '../domain/order-partitions';
import { ErrorType } from '../domain/errors';
import type { OrderPartitionsInput, OrderPartitionsResult } from './order-partitions.defs';

// One statement: creating a month's table is milliseconds, moving the orders that reached
// orders_default before it existed is a few seconds per 100,000. Ten minutes covers a large
// backlog; a lock it waits for (10 s lock_timeout) fails the attempt, and it is retried.
const { ensureOrderPartitions } = proxyActivities<OrderPartitionActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 20, nonRetryableErrorTypes: [ErrorType.DataRejected] },
});

/**
 * Makes sure `orders` has a partition for the current Shanghai month and the `monthsAhead`
 * after it, so no order lands in orders_default. Started at 03:00 on the 1st by the
 * `order-partitions` schedule; harmless at any other time (it creates only what is missing).
 */
export async function orderPartitions(input: OrderPartitionsInput = {}): Promise<OrderPartitionsResult> {
  const monthsAhead = input.monthsAhead ?? DEFAULT_MONTHS_AHEAD;
  const refusal = monthsAheadRefusal(monthsAhead);
  if (refusal) throw ApplicationFailure.nonRetryable(refusal, ErrorType.DataRejected);
  // Workflow time: the same months on replay and on every retry of the activity.
  return ensureOrderPartitions({ asOf: new Date().toISOString(), monthsAhead });
}
