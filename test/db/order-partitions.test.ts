import { createOrderPartitionRepository } from '../../db/repositories/order-partitions';
import { addMonths, monthsToEnsure, shanghaiMonth } from '../../domain/order-partitions';
import { createTestDb, type TestDb } from '../support/db';

/** A wall-clock time in Shanghai, as an ISO instant. */
const shanghai = (local: string) => new Date(`${local}+08:00`).toISOString();

const orderRow = (id: string, paidAt: string) => ({ id, merchant_id: 'm-part', shop_id: 'shop-m-part', category: 'apparel', amount_fen: 10_000, status: 'paid', paid_at: paidAt });

/**
 * The monthly partitions of `orders` (migration 030) as the worker makes them: connected as
 * the app's role, which owns no table, as the `order-partitions` process runs in production.
 */
describe('order partitions', () => {
  let t: TestDb;
  const count = async (sql: string, bindings: readonly string[] = []) => ((await t.db.raw(sql, bindings)) as { rows: Array<{ n: number }> }).rows[0]!.n;
  // Through `orders`, as the app reads it: the app's role has no grant on a partition made after its grants.
  const inTable = (table: string, like: string) =>
    count(`SELECT count(*)::int AS n FROM orders WHERE id LIKE ?${table === 'orders' ? '' : ` AND tableoid = '${table}'::regclass`}`, [like]);

  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('are made ahead from the current Shanghai month, and a second run creates nothing', async () => {
    const repo = createOrderPartitionRepository(t.db);
    // Beyond the 3 months the migration made: 5 ahead creates the 4th and the 5th.
    const { from, through } = monthsToEnsure(new Date(), 5);
    const created = await repo.ensurePartitions(from, through, { sub: 'system:test', role: 'system', requestId: 'r-ahead' });
    expect(created).toEqual([addMonths(from, 4), addMonths(from, 5)]);
    expect(await repo.attachedMonths()).toEqual(expect.arrayContaining([from, addMonths(from, 1), addMonths(from, 5)]));
    expect(await repo.ensurePartitions(from, through, { sub: 'system:test', role: 'system', requestId: 'r-again' })).toEqual([]);
    // One audit row, for the run that created something.
    const audit = await t.db('audit_log').where({ action: 'orders.partitions_created' }).select('actor_sub', 'request_id', 'details');
    expect(audit).toEqual([{ actor_sub: 'system:test', request_id: 'r-ahead', details: expect.objectContaining({ created }) }]);
  });

  test('an order paid in a month with no partition waits in orders_default and moves into the partition when it is made, nothing lost', async () => {
    const repo = createOrderPartitionRepository(t.db);
    // March 2024 is before the migration's 12 months back: no partition yet.
    await t.db('orders').insert([
      orderRow('o-early-1', shanghai('2024-03-01T00:00:00')),
      orderRow('o-early-2', shanghai('2024-03-31T23:59:59.999')),
      // The first instant of April in Shanghai: April's, not March's.
      orderRow('o-early-3', shanghai('2024-04-01T00:00:00')),
    ]);
    expect(await inTable('orders_default', 'o-early-%')).toBe(3);

    expect(await repo.ensurePartitions('2024-03', '2024-03')).toEqual(['2024-03']);
    expect(await inTable('orders_2024_03', 'o-early-%')).toBe(2);
    expect(await inTable('orders_default', 'o-early-%')).toBe(1);
    expect(await inTable('orders', 'o-early-%')).toBe(3);
    expect(await count(`SELECT count(*)::int AS n FROM order_ids WHERE id LIKE 'o-early-%'`)).toBe(3);
  });

  test('an order id exists once across months: the same id paid in another month fails on order_ids_pkey', async () => {
    const month = shanghaiMonth(new Date());
    await t.db('orders').insert(orderRow('o-once', shanghai(`${month}-02T10:00:00`)));
    const again = t.db('orders').insert(orderRow('o-once', shanghai(`${addMonths(month, -1)}-02T10:00:00`)));
    await expect(again).rejects.toMatchObject({ code: '23505', constraint: 'order_ids_pkey' });
    expect(await inTable('orders', 'o-once')).toBe(1);
  });

  test("an order's payment time never changes once written (it is its month and its row in order_ids)", async () => {
    const month = shanghaiMonth(new Date());
    await t.db('orders').insert(orderRow('o-fixed', shanghai(`${month}-04T10:00:00`)));
    await expect(t.db('orders').where({ id: 'o-fixed' }).update({ paid_at: shanghai(`${month}-05T10:00:00`) })).rejects.toMatchObject({ code: '23514' });
    // Any other column changes as before, the payment time set to itself included.
    await t.db('orders').where({ id: 'o-fixed' }).update({ status: 'receipt_confirmed', paid_at: shanghai(`${month}-04T10:00:00`) });
    expect(await inTable('orders', 'o-fixed')).toBe(1);
  });

  test('a session cannot slip past order_ids with a temporary table of that name', async () => {
    const month = shanghaiMonth(new Date());
    await t.db('orders').insert(orderRow('o-temp', shanghai(`${month}-03T10:00:00`)));
    await t.db.transaction(async (trx) => {
      await trx.raw('CREATE TEMP TABLE order_ids (id text, paid_at timestamptz) ON COMMIT DROP');
      const again = trx('orders').insert(orderRow('o-temp', shanghai(`${addMonths(month, -1)}-03T10:00:00`)));
      await expect(again).rejects.toMatchObject({ code: '23505', constraint: 'order_ids_pkey' });
    }).catch((err: unknown) => {
      // The refused insert aborts the transaction; what matters is the refusal above.
      if (!String(err).includes('current transaction is aborted') && !String(err).includes('order_ids_pkey')) throw err;
    });
    expect(await inTable('orders', 'o-temp')).toBe(1);
  });

  test("a month's bounds are Shanghai midnights whatever the session's DateStyle and time zone", async () => {
    const { through } = monthsToEnsure(new Date(), 8);
    await t.db.transaction(async (trx) => {
      await trx.raw(`SET LOCAL DateStyle = 'SQL, DMY'`);
      await trx.raw(`SET LOCAL TimeZone = 'America/Chicago'`);
      await trx.raw('SELECT ensure_order_partitions(?::date, ?::date)', [`${through}-01`, `${through}-01`]);
    });
    await t.db('orders').insert([orderRow('o-bound-first', shanghai(`${through}-01T00:00:00`)), orderRow('o-bound-before', shanghai(`${addMonths(through, -1)}-28T23:59:59`))]);
    const table = `orders_${through.replace('-', '_')}`;
    expect(await inTable(table, 'o-bound-first')).toBe(1);
    expect(await inTable(table, 'o-bound-before')).toBe(0);
  });

  test('the partition functions refuse a span of years, and no role but the app may call them', async () => {
    await expect(t.db.raw(`SELECT ensure_order_partitions('2020-01-01', '2030-01-01')`)).rejects.toThrow(/more than 36 months/);
    const { rows } = (await t.db.raw(`SELECT proname, coalesce(proacl::text, '') AS acl FROM pg_proc WHERE proname IN ('ensure_order_partition', 'ensure_order_partitions')`)) as {
      rows: Array<{ proname: string; acl: string }>;
    };
    expect(rows).toHaveLength(2);
    // An ACL entry for PUBLIC is written with an empty grantee: "=X/owner".
    for (const { acl } of rows) expect(acl).not.toMatch(/(^|[{,])=X/);
  });
});
