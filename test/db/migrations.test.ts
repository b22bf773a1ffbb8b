import { migratorConfig } from '../../db/migrations';
import { createTestDb, type TestDb } from '../support/db';

const FOUNDATION_TABLES = ['merchants', 'shops', 'verification_cases', 'verification_submissions', 'verification_events', 'audit_log'];
const DEPOSIT_TABLES = [
  'ledger_accounts',
  'ledger_transactions',
  'ledger_entries',
  'deposit_accounts',
  'deposit_episodes',
  'deposit_episode_steps',
  'shop_restrictions',
  'shop_closures',
  'violation_cases',
  'shop_categories',
];
const SETTLEMENT_TABLES = ['orders', 'fee_rates', 'settlement_runs', 'statements', 'payouts', 'merchant_flags'];
const ORDER_FEED_TABLES = ['order_feed_cursors'];
const PAYMENT_TABLES = ['deposit_payments', 'deposit_payment_refunds', 'offline_top_ups'];
const TABLES = [...FOUNDATION_TABLES, ...DEPOSIT_TABLES, ...SETTLEMENT_TABLES, ...ORDER_FEED_TABLES, 'violation_events', ...PAYMENT_TABLES, 'security_events'];

async function existingTables(t: TestDb): Promise<string[]> {
  const found: string[] = [];
  for (const table of TABLES) if (await t.db.schema.hasTable(table)) found.push(table);
  return found;
}

describe('migrations', () => {
  let t: TestDb;
  beforeAll(async () => {
    // The owner: these tests migrate up and down.
    t = await createTestDb({ as: 'owner' });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('up creates every table, down removes them all, and up works again', async () => {
    expect(await existingTables(t)).toEqual(TABLES);

    await t.db.migrate.rollback(migratorConfig, true);
    expect(await existingTables(t)).toEqual([]);

    await t.db.migrate.latest(migratorConfig);
    expect(await existingTables(t)).toEqual(TABLES);
  });

  test('everything after the foundation rolls back on its own and applies again', async () => {
    // One step at a time, newest first, as `npm run migrate -- down` would after separate deploys.
    while ((await t.db.migrate.currentVersion(migratorConfig)) !== '001') await t.db.migrate.down(migratorConfig);
    expect(await existingTables(t)).toEqual(FOUNDATION_TABLES);
    const { rows } = (await t.db.raw(`SELECT proname FROM pg_proc WHERE proname LIKE 'ledger%'`)) as { rows: unknown[] };
    expect(rows).toEqual([]);

    await t.db.migrate.latest(migratorConfig);
    expect(await existingTables(t)).toEqual(TABLES);
  });

  test('the order feed migration rolls back on its own: the cursors go, the orders stay without feed_seq', async () => {
    await t.db('orders').insert({
      id: 'o-mig', merchant_id: 'm-mig', shop_id: 'shop-m-mig', category: 'apparel', amount_fen: 100, status: 'paid', paid_at: new Date(), feed_seq: 7,
    });
    while ((await t.db.migrate.currentVersion(migratorConfig)) !== '005') await t.db.migrate.down(migratorConfig);
    await t.db.migrate.down(migratorConfig);
    expect(await t.db.schema.hasTable('order_feed_cursors')).toBe(false);
    expect(await t.db.schema.hasColumn('orders', 'feed_seq')).toBe(false);
    expect(await t.db('orders').where({ id: 'o-mig' }).first()).toMatchObject({ amount_fen: 100 });

    await t.db.migrate.latest(migratorConfig);
    expect(await t.db.schema.hasColumn('orders', 'feed_seq')).toBe(true);
    await t.db('orders').where({ id: 'o-mig' }).delete();
  });

  test('the violations migration rolls back on its own: case statuses return to open / closed', async () => {
    await t.db('violation_cases').insert([
      { id: 'v-mig-1', shop_id: 's', merchant_id: 'm', level: 'general', type: 'other', status: 'appealed', opened_at: new Date() },
      { id: 'v-mig-2', shop_id: 's', merchant_id: 'm', level: 'serious', type: 'other', status: 'expired', opened_at: new Date() },
    ]);
    // Later migrations go first, as they would in a real rollback.
    while ((await t.db.migrate.currentVersion(migratorConfig)) > '006') await t.db.migrate.down(migratorConfig);
    expect(await t.db.migrate.currentVersion(migratorConfig)).toBe('006');
    await t.db.migrate.down(migratorConfig);
    expect(await t.db.schema.hasTable('violation_events')).toBe(false);
    expect(await t.db('violation_cases').whereLike('id', 'v-mig-%').orderBy('id').pluck('status')).toEqual(['open', 'closed']);
    await t.db.migrate.latest(migratorConfig);
    expect(await t.db('violation_cases').whereLike('id', 'v-mig-%').orderBy('id').pluck('status')).toEqual(['appealable', 'expired']);
    await t.db('violation_cases').whereLike('id', 'v-mig-%').delete();
  });

  test('the payments migration rolls back on its own and applies again', async () => {
    while ((await t.db.migrate.currentVersion(migratorConfig)) > '007') await t.db.migrate.down(migratorConfig);
    expect(await t.db.migrate.currentVersion(migratorConfig)).toBe('007');
    await t.db.migrate.down(migratorConfig);
    for (const table of ['deposit_payments', 'deposit_payment_refunds', 'offline_top_ups']) expect(await t.db.schema.hasTable(table)).toBe(false);
    expect(await t.db.schema.hasTable('violation_events')).toBe(true);
    await t.db.migrate.latest(migratorConfig);
    expect(await t.db.schema.hasTable('deposit_payments')).toBe(true);
  });

  test('the audit and security migration rolls back on its own: security_events goes, attempt rows stay', async () => {
    await t.db('audit_log').insert({ request_id: 'r-att', actor_sub: 'olga', actor_role: 'ops', action: 'POST /v1/verifications', status_code: null, outcome: 'attempted' });
    while ((await t.db.migrate.currentVersion(migratorConfig)) !== '008') await t.db.migrate.down(migratorConfig);
    await t.db.migrate.down(migratorConfig);
    expect(await t.db.schema.hasTable('security_events')).toBe(false);
    expect(await t.db('audit_log').where({ request_id: 'r-att' }).first()).toMatchObject({ outcome: 'attempted', status_code: null });
    await t.db.migrate.latest(migratorConfig);
    expect(await t.db.schema.hasTable('security_events')).toBe(true);
  });

  test('the audit log is append-only in the database itself', async () => {
    await t.db('audit_log').insert({
      request_id: 'r-1',
      actor_sub: 'olga',
      actor_role: 'ops',
      action: 'verification.start',
      status_code: 202,
      outcome: 'succeeded',
    });
    await expect(t.db('audit_log').update({ outcome: 'failed' })).rejects.toThrow(/append-only/);
    await expect(t.db('audit_log').delete()).rejects.toThrow(/append-only/);
    await expect(t.db.raw('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect(await t.db('audit_log').where({ request_id: 'r-1' }).first()).toMatchObject({ outcome: 'succeeded' });
  });
});
