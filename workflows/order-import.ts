import { proxyActivities } from '@temporalio/workflow';
import type { OrderImportActivities } from '../activities/order-import';
import { ErrorType } from '../domain/errors';
import type { OrderImportInput, OrderImportResult } from './order-import.defs';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';

// One activity drains the feed, a page per transaction, heartbeating its counts. Each page
// commits with the cursor, so a timed-out or crashed attempt loses at most one page of work
// and the retry reads on from the cursor. An hour covers a first import of millions of
// events; the schedule's next run (overlap SKIP) simply waits for this one.
const feed = proxyActivities<OrderImportActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.PlatformRejected, ErrorType.OrderFeedInvalid],
  },
});

/**
 * Imports every order change the platform's feed has published since the last import
 * into `orders`, exactly once. Started every 5 minutes by the `order-import` schedule.
 */
export async function orderImport(input: OrderImportInput = {}): Promise<OrderImportResult> {
  return feed.importOrders(input);
}
