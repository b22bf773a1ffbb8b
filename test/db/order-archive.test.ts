import { createOrderFeedRepository, OrderFeedInvalidError } from '../../db/repositories/order-feed';
import { createOrderPartitionRepository, OrderArchiveRefusedError, type OrderPartitionRepository } from '../../db/repositories/order-partitions';
import { createTestDb, type TestDb } from '../support/db';

/** A wall-clock time in Shanghai, as an ISO instant. */
const shanghai = (local: string) => new Date(`${local}+08:00`).toISOString();

// Archiving detaches tables: the command runs as the schema owner, and so does this suite.
const ops = { sub: 'olga', role: 'ops', requestId: 'r-archive' };
// 1 December 2026, Shanghai: March 2026 ended 8 months before, June 2026 only 5.
const NOW = new Date(shanghai('2026-12-01T09:00:00'));

let seq = 0;
const order = (month: string, overrides: Record<string, unknown> = {}) => ({
  id: `o-arch-${month}-${++seq}`,
  merchant_id: 'm-arch',
  shop_id: 'shop-m-arch',
  category: 'apparel',
  amount_fen: 10_000,
  status: 'receipt_confirmed',
  paid_at: shanghai(`${month}-10T10:00:00`),
  receipt_confirmed_at: shanghai(`${month}-15T10:00:00`),
  settled_period: month,
  ...overrides,
});

describe('archiving a month of orders', () => {
  let t: TestDb;
  let repo: OrderPartitionRepository;
  const visible = async (month: string) => Number((await t.db('orders').where('id', 'like', `o-arch-${month}-%`).count<Array<{ count: string }>>({ count: '*' }))[0]!.count);
  const archivedTable = async (month: string) => (await t.db.raw(`SELECT to_regclass('orders_archive.orders_${month.replace('-', '_')}') AS t`)).rows[0].t;

  beforeAll(async () => {
    t = await createTestDb({ as: 'owner' });
    repo = createOrderPartitionRepository(t.db);
    await repo.ensurePartitions('2024-01', '2024-06');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test.each([
    ['an open order', { status: 'paid', receipt_confirmed_at: null, settled_period: null }, /1 open \(paid\) orders/],
    ['an order still to settle', { settled_period: null }, /1 confirmed orders still to settle/],
    ['a refund not yet on a statement', { status: 'refunded', refunded_at: shanghai('2024-06-01T10:00:00') }, /1 refunds not yet on a statement/],
  ])('refuses a month with %s, changing nothing', async (_what, overrides, reason) => {
    const month = '2024-01';
    await t.db('orders').insert([order(month), order(month, overrides)]);
    await expect(repo.archiveMonth(month, { now: NOW, actor: ops })).rejects.toThrow(reason);
    expect(await visible(month)).toBe(2);
    expect(await archivedTable(month)).toBeNull();
    await t.db('orders').where('id', 'like', `o-arch-${month}-%`).delete();
    await t.db('order_ids').where('id', 'like', `o-arch-${month}-%`).delete();
  });

  test('refuses a month with a pending compensation or an unresolved ticket on its orders', async () => {
    const month = '2024-02';
    const [a, b] = [order(month), order(month)];
    await t.db('orders').insert([a, b]);
    await t.db('logistics_exceptions').insert({ order_id: a.id, kind: 'lost', merchant_id: 'm-arch', shop_id: 'shop-m-arch', order_amount_fen: 10_000, compensation_fen: 1_000 });
    await t.db('after_sales_tickets').insert({
      id: 't-arch', kind: 'complaint', order_id: b.id, merchant_id: 'm-arch', shop_id: 'shop-m-arch', category: 'apparel', description: 'late', created_by: 'olga',
      created_at: shanghai('2024-02-20T10:00:00'), due_at: shanghai('2024-02-22T10:00:00'),
    });
    await expect(repo.archiveMonth(month, { now: NOW, actor: ops })).rejects.toThrow('1 logistics compensations pending, 1 after-sales tickets unresolved');
    await t.db('logistics_exceptions').where({ order_id: a.id }).update({ status: 'paid', compensation_id: 'c-1', settled_at: new Date() });
    await t.db('after_sales_tickets').where({ id: 't-arch' }).update({ state: 'resolved', resolved_at: new Date(), resolved_by: 'olga', resolution: 'refunded' });
    expect(Object.values(await repo.archiveBlockers(month)).every((n) => n === 0)).toBe(true);
  });

  test('refuses a month while an enforcement action on one of its shops is not finished: its refund pages walk the shop’s orders', async () => {
    const month = '2024-05';
    await t.db('orders').insert(order(month));
    await t.db('merchants').insert({ id: 'm-arch', entity_type: 'enterprise', legal_name: 'Merchant m-arch', verification_status: 'approved' });
    await t.db('shops').insert({ id: 'shop-m-arch', merchant_id: 'm-arch', shop_type: 'flagship', status: 'open', opened_by_case_id: 'case-m-arch' });
    await t.db('enforcement_actions').insert({ id: 'enf-arch', shop_id: 'shop-m-arch', merchant_id: 'm-arch', reason: 'counterfeit_goods', evidence: 'x', opened_by: 'olga', workflow_id: 'enforcement:enf-arch' });
    await expect(repo.archiveMonth(month, { now: NOW, actor: ops })).rejects.toThrow('1 enforcement actions in progress on its shops');
    await t.db('enforcement_actions').where({ id: 'enf-arch' }).update({ state: 'rejected', rejected_by: 'pan', rejected_at: new Date() });
    expect(await repo.archiveBlockers(month)).toMatchObject({ enforcementLive: 0 });
  });

  test('refuses a month that ended less than 6 months ago (or the minimum given), or has no partition', async () => {
    await expect(repo.archiveMonth('2026-06', { now: NOW, actor: ops })).rejects.toThrow('2026-06 ended less than 6 months ago: it may be archived from 2027-01-01');
    await expect(repo.archiveMonth('2026-05', { now: NOW, minAgeMonths: 7, actor: ops })).rejects.toThrow(OrderArchiveRefusedError);
    await expect(repo.archiveMonth('2023-01', { now: NOW, actor: ops })).rejects.toThrow('2023-01 has no partition of orders');
    await expect(repo.archiveMonth('2024-13', { now: NOW, actor: ops })).rejects.toThrow('not a month');
  });

  test('archives a finished month into orders_archive and restores it, audited both ways', async () => {
    const month = '2024-03';
    const rows = [order(month), order(month, { status: 'refunded', refunded_at: shanghai('2024-04-02T10:00:00'), refund_settled_period: '2024-04' })];
    await t.db('orders').insert(rows);

    expect(await repo.archiveMonth(month, { now: NOW, actor: ops })).toEqual({ month, partition: 'orders_archive.orders_2024_03', orders: 2 });
    expect(await visible(month)).toBe(0);
    expect(await archivedTable(month)).toBe('orders_archive.orders_2024_03');
    expect(await t.db('orders_archive.orders_2024_03').count<Array<{ count: string }>>({ count: '*' })).toEqual([{ count: 2 }]);
    expect(await repo.attachedMonths()).not.toContain(month);
    await expect(repo.archiveMonth(month, { now: NOW, actor: ops })).rejects.toThrow('2024-03 is already archived');

    expect(await repo.restoreMonth(month, { actor: { ...ops, requestId: 'r-restore' } })).toEqual({ month, partition: 'public.orders_2024_03', orders: 2 });
    expect(await visible(month)).toBe(2);
    expect(await archivedTable(month)).toBeNull();
    expect(await repo.attachedMonths()).toContain(month);
    await expect(repo.restoreMonth(month, { actor: ops })).rejects.toThrow('2024-03 is not archived');

    const audit = await t.db('audit_log').where({ target: `orders:${month}` }).orderBy('id').select('action', 'actor_sub', 'request_id', 'outcome', 'details');
    expect(audit).toEqual([
      { action: 'orders.archive', actor_sub: 'olga', request_id: 'r-archive', outcome: 'succeeded', details: { partition: 'orders_archive.orders_2024_03', orders: 2 } },
      { action: 'orders.restore', actor_sub: 'olga', request_id: 'r-restore', outcome: 'succeeded', details: { partition: 'public.orders_2024_03', orders: 2 } },
    ]);
  });

  test('a feed event for an archived order does not bring it back: order_ids refuses it, and the import refuses its page', async () => {
    const month = '2024-04';
    const archived = order(month);
    await t.db('orders').insert(archived);
    await repo.archiveMonth(month, { now: NOW, actor: ops });

    // Without its partition the event's row would land in orders_default, as a new order.
    const feed = createOrderFeedRepository(t.db);
    const event = {
      seq: 1,
      order: {
        orderId: archived.id, merchantId: 'm-arch', shopId: 'shop-m-arch', category: 'apparel', amountFen: 10_000,
        status: 'refunded' as const, paidAt: archived.paid_at, receiptConfirmedAt: archived.receipt_confirmed_at, refundedAt: shanghai('2026-11-30T10:00:00'),
      },
    };
    await expect(feed.importPage('archived', { after: 0, events: [event], lastSeq: 1 })).rejects.toThrow(OrderFeedInvalidError);
    expect(await visible(month)).toBe(0);
    expect(await feed.cursor('archived')).toBe(0);
    await expect(t.db('orders').insert({ ...archived })).rejects.toMatchObject({ code: '23505', constraint: 'order_ids_pkey' });

    // A new order of that month reaching orders_default meanwhile goes back with the month.
    await t.db('orders').insert(order(month));
    await repo.restoreMonth(month, { actor: ops });
    expect(await visible(month)).toBe(2);
    const { rows } = await t.db.raw(`SELECT count(*)::int AS n FROM orders_default WHERE id LIKE 'o-arch-2024-04-%'`);
    expect(rows[0].n).toBe(0);
  });
});
