import { createOrderFeedRepository, OrderFeedInvalidError } from '../../db/repositories/order-feed';
import type { FeedOrder } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';
import { fulfilmentOrder as order, shanghai } from '../support/fulfilment';

/** The order import keeps the feed's fulfilment facts, one statement per page as before. */
describe('order feed import: fulfilment facts', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  let seq = 0;
  const importAll = async (feed: string, ...orders: FeedOrder[]) => {
    const repo = createOrderFeedRepository(t.db);
    const after = await repo.cursor(feed);
    const events = orders.map((o) => ({ seq: ++seq, order: o }));
    return repo.importPage(feed, { after, events, lastSeq: seq });
  };

  test('writes the mapping, the shipment and the deadline computed from payment or the pre-sale date', async () => {
    seq = 0;
    await importAll(
      'f1',
      order('o-f1', 'm-f', { partnerOrder: { platform: 'youzan', orderId: 'E1' }, shippedAt: shanghai('2026-12-05T09:00:00'), trackingNumber: 'SF1', trackingUpdatedAt: shanghai('2026-12-05T12:00:00') }),
      order('o-f2', 'm-f', { presalePromisedAt: shanghai('2026-12-20T00:00:00') }),
      order('o-f3', 'm-f'),
    );
    const rows = await t.db('orders').whereIn('id', ['o-f1', 'o-f2', 'o-f3']).orderBy('id');
    expect(rows.map((r) => [r.id, r.partner_platform, r.partner_order_id, r.ship_by.toISOString(), r.shipped_at?.toISOString() ?? null, r.tracking_number])).toEqual([
      ['o-f1', 'youzan', 'E1', shanghai('2026-12-06T20:00:00'), shanghai('2026-12-05T09:00:00'), 'SF1'],
      ['o-f2', null, null, shanghai('2026-12-22T00:00:00'), null, null],
      ['o-f3', null, null, shanghai('2026-12-06T20:00:00'), null, null],
    ]);

    // A later state carries the carrier's report; the mapping stays as the feed sends it.
    await importAll('f1', order('o-f3', 'm-f', { shippedAt: shanghai('2026-12-05T10:00:00'), trackingNumber: 'SF3', logisticsException: 'damaged' }));
    expect(await t.db('orders').where({ id: 'o-f3' }).first()).toMatchObject({ logistics_exception: 'damaged', tracking_number: 'SF3' });
  });

  test('a partner order mapped to a second Kuaishou order is refused as invalid, naming no buyer data, and nothing of the page is kept', async () => {
    const before = await createOrderFeedRepository(t.db).cursor('f1');
    await expect(importAll('f1', order('o-f9', 'm-f'), order('o-f4', 'm-f', { partnerOrder: { platform: 'youzan', orderId: 'E1' } }))).rejects.toThrow(OrderFeedInvalidError);
    expect(await createOrderFeedRepository(t.db).cursor('f1')).toBe(before);
    expect(await t.db('orders').whereIn('id', ['o-f4', 'o-f9'])).toEqual([]);
    // The same partner order id on another platform is another order.
    seq = before;
    await importAll('f1', order('o-f5', 'm-f', { partnerOrder: { platform: 'jd', orderId: 'E1' } }));
    expect((await t.db('orders').where({ id: 'o-f5' }).first()).partner_platform).toBe('jd');
  });

  test('a partner order that moves from one Kuaishou order to another within one page is imported, and maps to the second', async () => {
    await importAll('f2', order('o-m1', 'm-f', { partnerOrder: { platform: 'youzan', orderId: 'MV1' } }), order('o-m2', 'm-f'));
    await importAll('f2', order('o-m1', 'm-f'), order('o-m2', 'm-f', { partnerOrder: { platform: 'youzan', orderId: 'MV1' } }));
    const rows = await t.db('orders').whereIn('id', ['o-m1', 'o-m2']).orderBy('id');
    expect(rows.map((r) => [r.id, r.partner_order_id])).toEqual([['o-m1', null], ['o-m2', 'MV1']]);
    expect(await t.db('order_partner_ids').where({ partner_platform: 'youzan', partner_order_id: 'MV1' })).toEqual([
      { partner_platform: 'youzan', partner_order_id: 'MV1', order_id: 'o-m2' },
    ]);
  });
});
