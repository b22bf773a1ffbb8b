import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createFulfilmentActivities, FEED_GRACE_MS } from '../../activities/fulfilment';
import { DEFAULT_FULFILMENT_POLICY, isLate, lateDay } from '../../domain/fulfilment';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';
import { fulfilmentOrder as order, HOUR, plus, publishAndImport, shanghai } from '../support/fulfilment';

const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

/** The fulfilment scan's activities over PostgreSQL and the sandbox platform (docs/rules.md §5.4). */
describe('fulfilment activities', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let platform: PlatformClient;
  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    platform = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });
  // Every test starts from an empty feed and a watermark before every deadline.
  beforeEach(async () => {
    for (const table of ['logistics_exceptions', 'shipping_warnings', 'late_shipments', 'shipping_days', 'fulfilment_cursors', 'orders', 'order_feed_cursors']) await t.db(table).delete();
    sandbox.state.orderFeed.length = 0;
    sandbox.state.notifications.length = 0;
    sandbox.state.compensations.length = 0;
  });

  const activities = (p: PlatformClient = platform) => createFulfilmentActivities({ db: t.db, platform: p, policy: DEFAULT_FULFILMENT_POLICY });
  const publish = (...orders: ReturnType<typeof order>[]) => publishAndImport(sandbox.state, t.db, orders);

  // Paid Friday 4 December 2026, 20:00 Shanghai: due Sunday 6 December, 20:00, across the weekend.
  const friday = shanghai('2026-12-04T20:00:00');
  const sundayDeadline = shanghai('2026-12-06T20:00:00');

  test('a deadline across the weekend: warned at 36 h once, judged late after 48 calendar hours, counted on the deadline day', async () => {
    await publish(
      order('o-unshipped', 'm-wk', { paidAt: friday }),
      order('o-on-time', 'm-wk', { paidAt: friday, shippedAt: sundayDeadline, trackingNumber: 'SF1' }),
      order('o-late', 'm-wk', { paidAt: friday, shippedAt: plus(sundayDeadline, 1), trackingNumber: 'SF2' }),
      // Refunded before its deadline without shipping: nothing was left to ship, so not due.
      order('o-cancelled', 'm-wk', { paidAt: friday, status: 'refunded', refundedAt: shanghai('2026-12-05T10:00:00') }),
      // One millisecond later than the others: still open when the scan's watermark stops.
      order('o-next', 'm-wk', { paidAt: plus(friday, 1) }),
    );
    expect((await t.db('orders').where({ id: 'o-unshipped' }).first()).ship_by).toEqual(new Date(sundayDeadline));
    const env = quietEnvironment();
    const a = activities();

    // Sunday 07:59:59.999: 12 h before the deadline is not reached yet.
    const warn = (asOf: string) => env.run(a.warnMerchants, { asOf });
    expect(await warn(plus(shanghai('2026-12-06T08:00:00'), -1))).toEqual({ recorded: 0, sent: 0, refused: 0 });
    // Sunday 08:00, 36 h after payment: the two unshipped orders are warned, the shipped ones not.
    expect(await warn(shanghai('2026-12-06T08:00:00'))).toEqual({ recorded: 1, sent: 1, refused: 0 });
    expect(await warn(plus(shanghai('2026-12-06T08:00:00'), 1))).toEqual({ recorded: 1, sent: 1, refused: 0 });
    // A rerun sends nothing more: one notification per order, keyed by it.
    expect(await warn(shanghai('2026-12-06T09:00:00'))).toEqual({ recorded: 0, sent: 0, refused: 0 });
    expect(sandbox.state.notifications.map((n) => [n.merchantId, n.template, n.data?.orderId])).toEqual([
      ['m-wk', 'shipping_deadline_warning', 'o-unshipped'],
      ['m-wk', 'shipping_deadline_warning', 'o-next'],
    ]);
    expect(sandbox.state.idempotency.has('ship-warning:o-unshipped')).toBe(true);

    // The watermark judges deadlines up to the feed's grace before the scan: exactly at it is included.
    const judgeAt = plus(sundayDeadline, FEED_GRACE_MS);
    expect(await env.run(a.recordDueOrders, { asOf: judgeAt })).toEqual({ pages: 1, due: 3, late: 2, shippedSinceLate: 0, correctedLate: 0 });
    const late = await t.db('late_shipments').orderBy('order_id');
    expect(late.map((l) => [l.order_id, l.day, l.shipped_at?.toISOString() ?? null])).toEqual([
      ['o-late', expect.anything(), plus(sundayDeadline, 1)],
      ['o-unshipped', expect.anything(), null],
    ]);
    // The SQL agrees with the rule it implements (domain/fulfilment.ts isLate, lateDay).
    for (const id of ['o-unshipped', 'o-on-time', 'o-late']) {
      const o = await t.db('orders').where({ id }).first();
      expect(late.some((l) => l.order_id === id)).toBe(isLate(o.ship_by, o.shipped_at, new Date(judgeAt)));
    }
    const dayOf = (d: Date | string) => (typeof d === 'string' ? d : `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`);
    expect(late.map((l) => dayOf(l.day))).toEqual([lateDay(new Date(sundayDeadline)), '2026-12-06']);
    expect((await t.db('shipping_days').select('shop_id', 'merchant_id', 'due', 'late')).map((d) => ({ ...d }))).toEqual([{ shop_id: 'shop-m-wk', merchant_id: 'm-wk', due: 3, late: 2 }]);

    // The unshipped order ships on Monday; the next scan judges o-next, fills in the shipment, counts nothing twice.
    await publish(order('o-unshipped', 'm-wk', { paidAt: friday, shippedAt: shanghai('2026-12-07T09:00:00') }));
    expect(await env.run(a.recordDueOrders, { asOf: plus(judgeAt, 1) })).toEqual({ pages: 1, due: 1, late: 1, shippedSinceLate: 1, correctedLate: 0 });
    expect(await env.run(a.recordDueOrders, { asOf: plus(judgeAt, HOUR) })).toEqual({ pages: 1, due: 0, late: 0, shippedSinceLate: 0, correctedLate: 0 });
    expect((await t.db('late_shipments').where({ order_id: 'o-unshipped' }).first()).shipped_at).toEqual(new Date(shanghai('2026-12-07T09:00:00')));
    expect((await t.db('shipping_days').first()).due).toBe(4);
    expect((await t.db('shipping_days').first()).late).toBe(3);
  });

  test('a pre-sale date the feed moves after the order was judged neither counts it twice nor moves its deadline', async () => {
    const promised = shanghai('2026-12-04T00:00:00');
    await publish(order('o-pre', 'm-pre', { paidAt: shanghai('2026-12-01T10:00:00'), presalePromisedAt: promised }));
    const env = quietEnvironment();
    const deadline = plus(promised, 48 * HOUR);
    expect(await env.run(activities().recordDueOrders, { asOf: plus(deadline, FEED_GRACE_MS) })).toMatchObject({ due: 1, late: 1 });
    // A later state of the same order with the promise moved four days on: the buyer bought the first promise.
    await publish(order('o-pre', 'm-pre', { paidAt: shanghai('2026-12-01T10:00:00'), presalePromisedAt: plus(promised, 96 * HOUR) }));
    expect(await env.run(activities().recordDueOrders, { asOf: plus(deadline, 200 * HOUR) })).toMatchObject({ due: 0, late: 0 });
    expect((await t.db('shipping_days').where({ shop_id: 'shop-m-pre' })).map((d) => [d.due, d.late])).toEqual([[1, 1]]);
    expect((await t.db('orders').where({ id: 'o-pre' }).first()).ship_by).toEqual(new Date(deadline));
  });

  test('a shipment or a refund made by the deadline but imported after the grace is not left counted late', async () => {
    // The import was down at the deadline: both orders are judged late on what the database held.
    await publish(order('o-lagged', 'm-lag', { paidAt: friday }), order('o-lag-refund', 'm-lag', { paidAt: friday }), order('o-lag-late', 'm-lag', { paidAt: friday }));
    const env = quietEnvironment();
    const judgeAt = plus(sundayDeadline, FEED_GRACE_MS);
    expect(await env.run(activities().recordDueOrders, { asOf: judgeAt })).toMatchObject({ due: 3, late: 3 });
    // The feed then delivers what happened before the deadline (and one shipment that really was late).
    await publish(
      order('o-lagged', 'm-lag', { paidAt: friday, shippedAt: plus(sundayDeadline, -HOUR), trackingNumber: 'SF1' }),
      order('o-lag-refund', 'm-lag', { paidAt: friday, status: 'refunded', refundedAt: plus(sundayDeadline, -HOUR) }),
      order('o-lag-late', 'm-lag', { paidAt: friday, shippedAt: plus(sundayDeadline, HOUR), trackingNumber: 'SF2' }),
    );
    expect(await env.run(activities().recordDueOrders, { asOf: plus(judgeAt, 2 * HOUR) })).toMatchObject({ due: 0, late: 0, shippedSinceLate: 1, correctedLate: 2 });
    expect((await t.db('shipping_days').where({ shop_id: 'shop-m-lag' })).map((d) => [d.due, d.late])).toEqual([[2, 1]]);
    expect((await t.db('late_shipments').where({ shop_id: 'shop-m-lag' })).map((l) => l.order_id)).toEqual(['o-lag-late']);
    // Nothing is corrected twice.
    expect(await env.run(activities().recordDueOrders, { asOf: plus(judgeAt, 3 * HOUR) })).toMatchObject({ shippedSinceLate: 0, correctedLate: 0 });
  });

  test('a deadline at the last millisecond of a Shanghai day counts on that day, one at midnight on the next', async () => {
    const midnight = shanghai('2026-12-08T00:00:00');
    await publish(order('o-2359', 'm-mid', { paidAt: plus(midnight, -48 * HOUR - 1) }), order('o-0000', 'm-mid', { paidAt: plus(midnight, -48 * HOUR) }));
    await quietEnvironment().run(activities().recordDueOrders, { asOf: plus(midnight, FEED_GRACE_MS + HOUR) });
    const days = await t.db('shipping_days').where({ shop_id: 'shop-m-mid' }).orderBy('day').select(t.db.raw(`to_char(day, 'YYYY-MM-DD') AS day`), 'due');
    expect(days.map((d) => [d.day, d.due])).toEqual([
      [lateDay(new Date(plus(midnight, -1))), 1],
      [lateDay(new Date(midnight)), 1],
    ]);
    expect(days.map((d) => d.day)).toEqual(['2026-12-07', '2026-12-08']);
  });

  test('the watermark pages through deadlines, and a retried page adds nothing twice', async () => {
    await publish(...Array.from({ length: 7 }, (_, i) => order(`o-p${i}`, 'm-page', { paidAt: plus(friday, i * HOUR) })));
    const env = quietEnvironment();
    const asOf = plus(sundayDeadline, 30 * HOUR);
    expect(await env.run(activities().recordDueOrders, { asOf, pageSize: 3 })).toEqual({ pages: 3, due: 7, late: 7, shippedSinceLate: 0, correctedLate: 0 });
    expect(await env.run(activities().recordDueOrders, { asOf, pageSize: 3 })).toEqual({ pages: 1, due: 0, late: 0, shippedSinceLate: 0, correctedLate: 0 });
    expect(Number((await t.db('late_shipments').count({ n: '*' }).first())!.n)).toBe(7);
  });

  test('a silent parcel is compensated once, even when the platform answer is lost and the step retried', async () => {
    const shippedAt = shanghai('2026-12-05T10:00:00');
    await publish(
      order('o-silent', 'm-cmp', { amountFen: 33_350, shippedAt, trackingNumber: 'YT1' }),
      // Its last tracking event is 1 ms later: not silent for 72 h yet.
      order('o-moving', 'm-cmp', { shippedAt, trackingNumber: 'YT2', trackingUpdatedAt: plus(shippedAt, 1) }),
      order('o-lost', 'm-cmp', { amountFen: 300, shippedAt, trackingNumber: 'YT3', logisticsException: 'lost' }),
    );
    let lose = true;
    const flaky: PlatformClient = {
      ...platform,
      async compensateOrder(orderId, input, key) {
        const paid = await platform.compensateOrder(orderId, input, key);
        if (lose && orderId === 'o-silent') {
          lose = false;
          throw ApplicationFailure.retryable('connection reset after the platform paid', 'PlatformUnavailable');
        }
        return paid;
      },
    };
    const env = quietEnvironment();
    const a = activities(flaky);
    const asOf = plus(shippedAt, 72 * HOUR);
    expect(await env.run(a.detectLogisticsExceptions, { asOf })).toEqual({ noTracking: 1, reported: 1 });
    expect(await env.run(a.detectLogisticsExceptions, { asOf })).toEqual({ noTracking: 0, reported: 0 });
    expect((await t.db('logistics_exceptions').orderBy('order_id')).map((x) => [x.order_id, x.kind, x.compensation_fen, x.status])).toEqual([
      ['o-lost', 'lost', 300, 'pending'], // 5 CNY minimum, capped at the 3 CNY order
      ['o-silent', 'no_tracking', 1_001, 'pending'], // 3% of 333.50 CNY = 10.005 CNY, half up
    ]);

    await expect(env.run(a.payCompensations, { asOf })).rejects.toThrow('connection reset');
    // The first attempt settled o-lost; the retry replays o-silent's lost answer under the same key.
    expect(await env.run(a.payCompensations, { asOf })).toEqual({ paid: 1, paidFen: 1_001, refused: 0 });
    expect(await env.run(a.payCompensations, { asOf })).toEqual({ paid: 0, paidFen: 0, refused: 0 });
    expect(sandbox.state.compensations.map((c) => [c.orderId, c.kind, c.amountFen]).sort()).toEqual([
      ['o-lost', 'lost', 300],
      ['o-silent', 'no_tracking', 1_001],
    ]);
    expect((await t.db('logistics_exceptions').orderBy('order_id')).map((x) => [x.order_id, x.status, x.compensation_id !== null])).toEqual([
      ['o-lost', 'paid', true],
      ['o-silent', 'paid', true],
    ]);
    // A day later the other parcel has been silent for 72 h too; the paid ones are not found again.
    expect(await env.run(a.detectLogisticsExceptions, { asOf: plus(asOf, 24 * HOUR) })).toEqual({ noTracking: 1, reported: 0 });
    expect((await t.db('logistics_exceptions').where({ order_id: 'o-moving' }).first()).kind).toBe('no_tracking');
  });

  test("an order's compensations together never exceed what the buyer paid: a later kind gets what is left, then nothing", async () => {
    const shippedAt = shanghai('2026-12-05T10:00:00');
    const parcel = { amountFen: 800, shippedAt, trackingNumber: 'YT9' };
    await publish(order('o-cap', 'm-cap', parcel));
    const env = quietEnvironment();
    const a = activities();
    const asOf = plus(shippedAt, 72 * HOUR);
    // Silent for 72 h: the 5 CNY minimum, below the 8 CNY order.
    expect(await env.run(a.detectLogisticsExceptions, { asOf })).toEqual({ noTracking: 1, reported: 0 });
    await publish(order('o-cap', 'm-cap', { ...parcel, logisticsException: 'lost' }));
    expect(await env.run(a.detectLogisticsExceptions, { asOf: plus(asOf, HOUR) })).toEqual({ noTracking: 0, reported: 1 });
    await publish(order('o-cap', 'm-cap', { ...parcel, logisticsException: 'damaged' }));
    expect(await env.run(a.detectLogisticsExceptions, { asOf: plus(asOf, 2 * HOUR) })).toEqual({ noTracking: 0, reported: 1 });
    expect((await t.db('logistics_exceptions').orderBy('detected_at')).map((x) => [x.kind, x.compensation_fen, x.status])).toEqual([
      ['no_tracking', 500, 'pending'],
      ['lost', 300, 'pending'], // 5 CNY by the rule, but only 3 CNY of the order is left
      ['damaged', 0, 'covered'], // nothing left: recorded, never paid
    ]);
    expect(await env.run(a.payCompensations, { asOf })).toEqual({ paid: 2, paidFen: 800, refused: 0 });
    expect(sandbox.state.compensations.reduce((sum, c) => sum + c.amountFen, 0)).toBe(800);
  });

  test('a warning the platform refuses is kept with its reason, not sent again, and does not stop the other warnings', async () => {
    await publish(order('o-w1', 'm-wr', { paidAt: friday }), order('o-w2', 'm-wr', { paidAt: friday }), order('o-w3', 'm-wr', { paidAt: friday }));
    const refusing: PlatformClient = {
      ...platform,
      async notify(input, key) {
        if (key === 'ship-warning:o-w2') throw ApplicationFailure.nonRetryable('POST /v1/notifications failed with 400', 'PlatformRejected', { status: 400, body: { error: 'recipient_blocked' } });
        return platform.notify(input, key);
      },
    };
    const env = quietEnvironment();
    const warn = (asOf: string) => env.run(activities(refusing).warnMerchants, { asOf });
    expect(await warn(shanghai('2026-12-06T08:00:00'))).toEqual({ recorded: 3, sent: 2, refused: 1 });
    expect(await warn(shanghai('2026-12-06T08:10:00'))).toEqual({ recorded: 0, sent: 0, refused: 0 });
    expect((await t.db('shipping_warnings').orderBy('order_id')).map((w) => [w.order_id, w.notified_at !== null, w.refused_reason])).toEqual([
      ['o-w1', true, null],
      ['o-w2', false, 'recipient_blocked'],
      ['o-w3', true, null],
    ]);
    // The scan goes on past the refusal: the deadline is judged.
    expect(await env.run(activities(refusing).recordDueOrders, { asOf: plus(sundayDeadline, FEED_GRACE_MS) })).toMatchObject({ due: 3, late: 3 });
  });

  test('a compensation the platform refuses is recorded with its reason and not tried again', async () => {
    const shippedAt = shanghai('2026-12-05T10:00:00');
    await publish(order('o-damaged', 'm-ref', { shippedAt, trackingNumber: 'ZT1', logisticsException: 'damaged' }));
    // The platform never published this order: it refuses to compensate it.
    sandbox.state.orderFeed.length = 0;
    const env = quietEnvironment();
    const a = activities();
    expect(await env.run(a.detectLogisticsExceptions, { asOf: shippedAt })).toEqual({ noTracking: 0, reported: 1 });
    expect(await env.run(a.payCompensations, { asOf: shippedAt })).toEqual({ paid: 0, paidFen: 0, refused: 1 });
    expect(await env.run(a.payCompensations, { asOf: shippedAt })).toEqual({ paid: 0, paidFen: 0, refused: 0 });
    const row = await t.db('logistics_exceptions').where({ order_id: 'o-damaged' }).first();
    expect([row.status, row.refused_reason, row.compensation_fen]).toEqual(['refused', 'order_unknown', 597]);
    expect(sandbox.state.compensations).toEqual([]);
  });
});
