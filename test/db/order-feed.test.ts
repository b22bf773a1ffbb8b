import {
  createOrderFeedRepository,
  OrderFeedGapError,
  OrderFeedInvalidError,
  type FeedPage,
  type OrderFeedRepository,
} from '../../db/repositories/order-feed';
import { createStatementRepository } from '../../db/repositories/settlement/statements';
import type { FeedOrder, OrderFeedEvent } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };

/** A wall-clock time in Shanghai, as an ISO instant. */
const shanghai = (local: string) => new Date(`${local}+08:00`).toISOString();

/** A feed of its own per test: events numbered from 1, read in pages as the platform serves them. */
function feedOf(name: string) {
  const events: OrderFeedEvent[] = [];
  return {
    name,
    emit(...orders: FeedOrder[]): void {
      for (const order of orders) events.push({ seq: events.length + 1, order });
    },
    /** Events (after, upTo], as a page read after `after`. */
    page(after: number, upTo = events.length): FeedPage {
      return { after, events: events.slice(after, upTo), lastSeq: Math.max(after, Math.min(upTo, events.length)) };
    },
  };
}

const order = (orderId: string, merchantId: string, overrides: Partial<FeedOrder> = {}): FeedOrder => ({
  orderId,
  merchantId,
  shopId: `shop-${merchantId}`,
  category: 'apparel',
  amountFen: 50_000,
  status: 'paid',
  paidAt: shanghai('2026-10-02T10:00:00'),
  receiptConfirmedAt: null,
  refundedAt: null,
  ...overrides,
});
const confirmed = (o: FeedOrder, at: string): FeedOrder => ({ ...o, status: 'receipt_confirmed', receiptConfirmedAt: shanghai(at) });
const refunded = (o: FeedOrder, at: string): FeedOrder => ({ ...o, status: 'refunded', refundedAt: shanghai(at) });

describe('order feed repository', () => {
  let t: TestDb;
  let repo: OrderFeedRepository;
  const rowsOf = (merchantId: string) => t.db('orders').where({ merchant_id: merchantId }).orderBy('id');

  beforeAll(async () => {
    t = await createTestDb();
    repo = createOrderFeedRepository(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('inserts new orders in integer fen and moves the cursor to the end of the page', async () => {
    const feed = feedOf('insert');
    feed.emit(order('o-ins-1', 'm-ins'), order('o-ins-2', 'm-ins', { category: 'beauty', amountFen: 1 }));

    expect(await repo.importPage(feed.name, feed.page(0))).toEqual({ inserted: 2, updated: 0, unchanged: 0, skipped: 0, lastSeq: 2 });
    expect(await repo.cursor(feed.name)).toBe(2);
    expect(await rowsOf('m-ins')).toEqual([
      expect.objectContaining({
        id: 'o-ins-1',
        shop_id: 'shop-m-ins',
        category: 'apparel',
        amount_fen: 50_000,
        status: 'paid',
        paid_at: new Date(shanghai('2026-10-02T10:00:00')),
        receipt_confirmed_at: null,
        refunded_at: null,
        settled_period: null,
        feed_seq: 1,
      }),
      expect.objectContaining({ id: 'o-ins-2', category: 'beauty', amount_fen: 1, feed_seq: 2 }),
    ]);
  });

  test('follows an order through receipt and refund, changing only status, times and seq', async () => {
    const feed = feedOf('lifecycle');
    const o = order('o-life', 'm-life');
    feed.emit(o);
    await repo.importPage(feed.name, feed.page(0));

    feed.emit(confirmed(o, '2026-10-06T09:00:00'));
    expect(await repo.importPage(feed.name, feed.page(1))).toMatchObject({ inserted: 0, updated: 1, lastSeq: 2 });
    expect(await rowsOf('m-life')).toEqual([
      expect.objectContaining({ status: 'receipt_confirmed', receipt_confirmed_at: new Date(shanghai('2026-10-06T09:00:00')), feed_seq: 2 }),
    ]);

    // A later event cannot rewrite what was fixed at payment.
    feed.emit({ ...refunded(confirmed(o, '2026-10-06T09:00:00'), '2026-10-09T12:00:00'), amountFen: 1, category: 'digital', shopId: 'shop-x' });
    expect(await repo.importPage(feed.name, feed.page(2))).toMatchObject({ updated: 1, lastSeq: 3 });
    expect(await rowsOf('m-life')).toEqual([
      expect.objectContaining({
        status: 'refunded',
        receipt_confirmed_at: new Date(shanghai('2026-10-06T09:00:00')),
        refunded_at: new Date(shanghai('2026-10-09T12:00:00')),
        amount_fen: 50_000,
        category: 'apparel',
        shop_id: 'shop-m-life',
        feed_seq: 3,
      }),
    ]);
  });

  test('an order changed twice within one page ends in its latest state', async () => {
    const feed = feedOf('same-page');
    const o = order('o-twice', 'm-twice');
    feed.emit(o, confirmed(o, '2026-10-04T08:00:00'), order('o-other', 'm-twice'));
    expect(await repo.importPage(feed.name, feed.page(0))).toEqual({ inserted: 2, updated: 0, unchanged: 1, skipped: 0, lastSeq: 3 });
    expect((await rowsOf('m-twice')).map((r) => [r.id, r.status, r.feed_seq])).toEqual([
      ['o-other', 'paid', 3],
      ['o-twice', 'receipt_confirmed', 2],
    ]);
  });

  test('a repeated page is a no-op, and a page overlapping the cursor applies only its new events', async () => {
    const feed = feedOf('repeat');
    const a = order('o-rep-a', 'm-rep');
    const b = order('o-rep-b', 'm-rep');
    feed.emit(a, b);
    await repo.importPage(feed.name, feed.page(0));
    const before = await rowsOf('m-rep');

    expect(await repo.importPage(feed.name, feed.page(0))).toEqual({ inserted: 0, updated: 0, unchanged: 0, skipped: 2, lastSeq: 2 });
    expect(await rowsOf('m-rep')).toEqual(before);
    expect(await repo.cursor(feed.name)).toBe(2);

    // Read after 1 by a slower importer: seq 2 is in already, seq 3 is new.
    feed.emit(confirmed(b, '2026-10-05T08:00:00'));
    expect(await repo.importPage(feed.name, feed.page(1))).toEqual({ inserted: 0, updated: 1, unchanged: 0, skipped: 1, lastSeq: 3 });
    expect(await repo.cursor(feed.name)).toBe(3);
  });

  test('a stale event never overwrites a newer state, even when the feed is replayed from the start', async () => {
    const feed = feedOf('stale');
    const o = order('o-stale', 'm-stale');
    feed.emit(o, confirmed(o, '2026-10-04T08:00:00'), refunded(confirmed(o, '2026-10-04T08:00:00'), '2026-10-05T08:00:00'));
    await repo.importPage(feed.name, feed.page(0));

    // Ops rewinds the cursor to re-read the feed (e.g. after restoring a backup).
    await t.db('order_feed_cursors').where({ feed: feed.name }).update({ last_seq: 0 });
    expect(await repo.importPage(feed.name, feed.page(0, 2))).toEqual({ inserted: 0, updated: 0, unchanged: 2, skipped: 0, lastSeq: 2 });
    expect(await rowsOf('m-stale')).toEqual([expect.objectContaining({ status: 'refunded', feed_seq: 3 })]);
    expect(await repo.cursor(feed.name)).toBe(2);
  });

  test('an order written by other means (the seed script) is taken over by its first feed event', async () => {
    await t.db('orders').insert({
      id: 'o-seeded', merchant_id: 'm-seeded', shop_id: 'shop-m-seeded', category: 'apparel', amount_fen: 7_000,
      status: 'paid', paid_at: shanghai('2026-10-02T10:00:00'),
    });
    const feed = feedOf('seeded');
    feed.emit(confirmed(order('o-seeded', 'm-seeded', { amountFen: 7_000 }), '2026-10-03T10:00:00'));
    expect(await repo.importPage(feed.name, feed.page(0))).toMatchObject({ inserted: 0, updated: 1 });
    expect(await rowsOf('m-seeded')).toEqual([expect.objectContaining({ status: 'receipt_confirmed', feed_seq: 1 })]);
  });

  test('an order keeps the payment time it was first written with: a later event with another one (even a microsecond off) updates it in place', async () => {
    // Written by other means with a microsecond the feed's milliseconds cannot carry.
    await t.db('orders').insert({
      id: 'o-micro', merchant_id: 'm-micro', shop_id: 'shop-m-micro', category: 'apparel', amount_fen: 7_000,
      status: 'paid', paid_at: '2026-10-02T10:00:00.123456+08:00',
    });
    const feed = feedOf('micro');
    feed.emit(confirmed(order('o-micro', 'm-micro', { amountFen: 7_000, paidAt: '2026-10-02T02:00:00.123Z' }), '2026-10-03T10:00:00'));
    expect(await repo.importPage(feed.name, feed.page(0))).toMatchObject({ inserted: 0, updated: 1 });
    // And an event that moves it to another month changes neither its month nor its count of rows.
    feed.emit(refunded(order('o-micro', 'm-micro', { amountFen: 7_000, paidAt: shanghai('2026-09-30T10:00:00') }), '2026-10-04T10:00:00'));
    expect(await repo.importPage(feed.name, feed.page(1))).toMatchObject({ inserted: 0, updated: 1 });
    const rows = (await t.db('orders').where({ id: 'o-micro' })) as Array<{ status: string; paid_at: Date; feed_seq: string | number }>;
    expect(rows.map((r) => [r.status, r.paid_at.toISOString(), Number(r.feed_seq)])).toEqual([['refunded', '2026-10-02T02:00:00.123Z', 2]]);
  });

  test('a page read after events the cursor has not reached is refused, so none are lost', async () => {
    const feed = feedOf('gap');
    feed.emit(order('o-gap-1', 'm-gap'), order('o-gap-2', 'm-gap'));
    await expect(repo.importPage(feed.name, feed.page(1))).rejects.toThrow(OrderFeedGapError);
    expect(await rowsOf('m-gap')).toEqual([]);
    expect(await repo.cursor(feed.name)).toBe(0);
  });

  test.each<[string, (events: OrderFeedEvent[]) => unknown[], RegExp]>([
    ['an amount with a fraction of a fen', (e) => [e[0], { ...e[1], order: { ...e[1]!.order, amountFen: 99.5 } }], /order "o-bad-2".*amountFen/],
    ['a refund without its time', (e) => [e[0], { ...e[1], order: { ...e[1]!.order, status: 'refunded' } }], /order "o-bad-2".*refundedAt/],
    ['a missing merchant', (e) => [e[0], { ...e[1], order: { ...e[1]!.order, merchantId: undefined } }], /order "o-bad-2".*merchantId/],
    ['seqs out of order', (e) => [e[1], e[0]], /seq 1 of order o-bad-1 is out of order/],
  ])('refuses a page with %s, naming the order, and writes nothing of it', async (_label, spoil, message) => {
    const feed = feedOf(`invalid-${_label}`);
    feed.emit(order('o-bad-1', 'm-bad'), order('o-bad-2', 'm-bad'));
    const page = feed.page(0);
    const spoilt = { ...page, events: spoil(page.events) as OrderFeedEvent[] };
    const refused = repo.importPage(feed.name, spoilt);
    await expect(refused).rejects.toThrow(OrderFeedInvalidError);
    await expect(refused).rejects.toThrow(message);
    expect(await rowsOf('m-bad')).toEqual([]);
    expect(await repo.cursor(feed.name)).toBe(0);
  });

  test('two importers of the same page at once apply it once', async () => {
    const feed = feedOf('concurrent');
    feed.emit(order('o-conc-first', 'm-conc'));
    await repo.importPage(feed.name, feed.page(0));
    feed.emit(...Array.from({ length: 300 }, (_, i) => order(`o-conc-${String(i).padStart(3, '0')}`, 'm-conc')));
    // Both read the cursor at 1; the second to lock it finds the page imported.
    const results = await Promise.all([repo.importPage(feed.name, feed.page(1)), repo.importPage(feed.name, feed.page(1))]);
    expect(results.map((r) => [r.inserted, r.skipped]).sort((a, b) => a[0]! - b[0]!)).toEqual([[0, 300], [300, 0]]);
    expect(await rowsOf('m-conc')).toHaveLength(301);
    expect(await repo.cursor(feed.name)).toBe(301);
  });

  // PGlite has one connection, so only a server can hold the importers at the same point.
  (process.env.DATABASE_URL ? test : test.skip)('two importers that read the cursor at the same moment take turns on it', async () => {
    const feed = feedOf('collide');
    feed.emit(order('o-coll-first', 'm-coll'));
    await repo.importPage(feed.name, feed.page(0));
    feed.emit(...Array.from({ length: 50 }, (_, i) => order(`o-coll-${String(i).padStart(2, '0')}`, 'm-coll')));

    const holder = await t.db.transaction();
    await holder('order_feed_cursors').where({ feed: feed.name }).forUpdate();
    const both = Promise.all([repo.importPage(feed.name, feed.page(1)), repo.importPage(feed.name, feed.page(1))]);
    await waitForLockWaiters(2);
    await holder.commit();

    const results = await both;
    expect(results.map((r) => [r.inserted, r.skipped]).sort((a, b) => a[0]! - b[0]!)).toEqual([[0, 50], [50, 0]]);
    expect(await rowsOf('m-coll')).toHaveLength(51);
  });

  /** Until `n` sessions of this database wait on a lock (or 5 s pass). */
  async function waitForLockWaiters(n: number): Promise<void> {
    const giveUpAt = Date.now() + 5_000;
    while (Date.now() < giveUpAt) {
      const { rows } = await t.db.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (rows[0].n >= n) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test('a settled order refunded through the feed keeps its settled period and is taken back by the next statement', async () => {
    const settlement = createStatementRepository(t.db);
    const settle = (period: string) => settlement.settleMerchantRange(period, 'm-settle-', 'm-settle-~', THRESHOLDS);
    const feed = feedOf('settle');
    const o = confirmed(order('o-settle', 'm-settle-1', { amountFen: 50_000 }), '2026-10-10T12:00:00');
    feed.emit(o);
    await repo.importPage(feed.name, feed.page(0));

    // October: 500 CNY of apparel, 10% + 3% in fees → 435 CNY paid out.
    expect((await settle('2026-10')).totals).toMatchObject({ statements: 1, gmvFen: 50_000, netFen: 43_500, payoutFen: 43_500 });

    feed.emit(refunded(o, '2026-11-05T09:00:00'));
    expect(await repo.importPage(feed.name, feed.page(1))).toMatchObject({ updated: 1 });
    expect(await rowsOf('m-settle-1')).toEqual([
      expect.objectContaining({ status: 'refunded', settled_period: '2026-10', refund_settled_period: null }),
    ]);

    // November: the refund is a negative line of what October paid for it.
    expect((await settle('2026-11')).totals).toMatchObject({ statements: 1, gmvFen: 0, refundsFen: 43_500, netFen: -43_500 });
    expect(await rowsOf('m-settle-1')).toEqual([expect.objectContaining({ settled_period: '2026-10', refund_settled_period: '2026-11' })]);

    // Read again from the start: nothing settlement marked is undone.
    await t.db('order_feed_cursors').where({ feed: feed.name }).update({ last_seq: 0 });
    await repo.importPage(feed.name, feed.page(0));
    expect(await rowsOf('m-settle-1')).toEqual([
      expect.objectContaining({ status: 'refunded', settled_period: '2026-10', refund_settled_period: '2026-11', feed_seq: 2 }),
    ]);
  });
});
