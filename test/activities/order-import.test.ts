import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createOrderImportActivities } from '../../activities/order-import';
import { ErrorType } from '../../domain/errors';
import type { FeedOrder, OrderFeedEvent, PlatformClient } from '../../platform/types';
import type { OrderImportResult } from '../../workflows/order-import.defs';
import { createTestDb, type TestDb } from '../support/db';

const order = (orderId: string, overrides: Partial<FeedOrder> = {}): FeedOrder => ({
  orderId,
  merchantId: 'm-act',
  shopId: 'shop-m-act',
  category: 'digital',
  amountFen: 300_000,
  status: 'paid',
  paidAt: '2026-10-02T02:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
  ...overrides,
});

/** A platform serving an in-memory feed as the sandbox does; it knows no other call. */
function feedPlatform(events: OrderFeedEvent[]) {
  const reads: number[] = [];
  const unused = () => Promise.reject(new Error('the order import does not call this'));
  const platform: PlatformClient = {
    async orderFeed(after, limit) {
      reads.push(after);
      const page = events.filter((e) => e.seq > after).slice(0, limit);
      const lastSeq = page.at(-1)?.seq ?? after;
      return { events: page, lastSeq, hasMore: events.some((e) => e.seq > lastSeq) };
    },
    notify: unused,
    setRestrictions: unused,
    setPartnerLinks: unused,
    upsertListings: unused,
    holdListings: unused,
    delistProducts: unused,
    relistProducts: unused,
    transferProceeds: unused,
    payment: unused,
    refund: unused,
    payout: unused,
    payoutBatch: unused,
    orderRefundBatch: unused,
    compensateOrder: unused,
    monthlySales: unused,
    shopOrders: unused,
  };
  return { platform, reads };
}

const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

describe('order import activity', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });
  // Every test reads the one platform feed from its start.
  beforeEach(async () => {
    await t.db('orders').delete();
    await t.db('order_feed_cursors').delete();
  });

  test('drains the feed page by page, heartbeating its counts, until the platform has no more', async () => {
    const events = [order('o-a'), order('o-b'), order('o-a', { status: 'receipt_confirmed', receiptConfirmedAt: '2026-10-04T02:00:00.000Z' }), order('o-c'), order('o-d')].map(
      (o, i) => ({ seq: 10 + i, order: o }),
    );
    const { platform, reads } = feedPlatform(events);
    const env = quietEnvironment();
    const beats: OrderImportResult[] = [];
    env.on('heartbeat', (d: OrderImportResult) => beats.push({ ...d }));

    const result = await env.run(createOrderImportActivities({ db: t.db, platform }).importOrders, { pageSize: 2 });

    expect(result).toEqual({ pages: 3, events: 5, inserted: 4, updated: 1, lastSeq: 14 });
    expect(reads).toEqual([0, 11, 13]);
    expect(beats.map((b) => b.lastSeq)).toEqual([11, 13, 14]);
    expect(await t.db('orders').orderBy('id').pluck('status')).toEqual(['receipt_confirmed', 'paid', 'paid', 'paid']);
    expect(await t.db('order_feed_cursors').where({ feed: 'platform' }).first()).toMatchObject({ last_seq: 14 });
  });

  test('an invalid event fails the import for good, naming its order; pages before it stay imported', async () => {
    const events: OrderFeedEvent[] = [
      { seq: 1, order: order('o-ok') },
      { seq: 2, order: order('o-fine') },
      { seq: 3, order: order('o-broken', { amountFen: 0 }) },
    ];
    const { platform } = feedPlatform(events);
    const failure = await quietEnvironment()
      .run(createOrderImportActivities({ db: t.db, platform }).importOrders, { pageSize: 2 })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ErrorType.OrderFeedInvalid, nonRetryable: true });
    expect((failure as ApplicationFailure).message).toMatch(/order "o-broken".*amountFen/);
    expect(await t.db('orders').orderBy('id').pluck('id')).toEqual(['o-fine', 'o-ok']);
    expect(await t.db('order_feed_cursors').where({ feed: 'platform' }).first()).toMatchObject({ last_seq: 2 });
  });

  test('a platform outage is left retryable, and the retried attempt goes on from the cursor with its counts', async () => {
    const events: OrderFeedEvent[] = [1, 2, 3].map((seq) => ({ seq, order: order(`o-${seq}`) }));
    const { platform, reads } = feedPlatform(events);
    let calls = 0;
    const flaky: PlatformClient = {
      ...platform,
      orderFeed: (after, limit) =>
        ++calls === 2 ? Promise.reject(ApplicationFailure.retryable('platform down', ErrorType.PlatformUnavailable)) : platform.orderFeed(after, limit),
    };
    const first = quietEnvironment();
    const beats: OrderImportResult[] = [];
    first.on('heartbeat', (d: OrderImportResult) => beats.push({ ...d }));
    const importOrders = createOrderImportActivities({ db: t.db, platform: flaky }).importOrders;

    await expect(first.run(importOrders, { pageSize: 2 })).rejects.toMatchObject({ type: ErrorType.PlatformUnavailable, nonRetryable: false });
    // Temporal hands the last heartbeat to the next attempt.
    const retried = new MockActivityEnvironment({ heartbeatDetails: beats.at(-1) }, { logger: new DefaultLogger('ERROR') });
    expect(await retried.run(importOrders, { pageSize: 2 })).toEqual({ pages: 2, events: 3, inserted: 3, updated: 0, lastSeq: 3 });
    expect(reads).toEqual([0, 2]);
  });
});
