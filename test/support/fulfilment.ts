import type { Knex } from 'knex';
import { createOrderFeedRepository } from '../../db/repositories/order-feed';
import type { SandboxState } from '../../platform/sandbox/state';
import type { FeedOrder } from '../../platform/types';

/** Shanghai wall time (UTC+8) as an ISO instant. */
export const shanghai = (local: string): string => new Date(`${local}+08:00`).toISOString();

export const HOUR = 3_600_000;
export const plus = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

/** A paid, unshipped order of shop `shop-<merchant>`; overrides add its fulfilment facts. */
export const fulfilmentOrder = (orderId: string, merchantId: string, overrides: Partial<FeedOrder> = {}): FeedOrder => ({
  orderId,
  merchantId,
  shopId: `shop-${merchantId}`,
  category: 'apparel',
  amountFen: 19_900,
  status: 'paid',
  paidAt: shanghai('2026-12-04T20:00:00'),
  receiptConfirmedAt: null,
  refundedAt: null,
  ...overrides,
});

/**
 * Publishes order states on the sandbox's feed and imports them as the order import does,
 * so `orders` holds what production would (ship_by computed at import) and the platform
 * knows the orders it is asked to compensate.
 */
export async function publishAndImport(state: SandboxState, db: Knex, orders: FeedOrder[], feed = 'fulfilment-test'): Promise<void> {
  const repo = createOrderFeedRepository(db);
  const after = state.orderFeed.length;
  const events = orders.map((order, i) => ({ seq: after + i + 1, order }));
  state.orderFeed.push(...events);
  const cursor = await repo.cursor(feed);
  const pending = state.orderFeed.slice(cursor);
  await repo.importPage(feed, { after: cursor, events: pending, lastSeq: state.orderFeed.length });
}
