import { grantAppRole } from '../../db/roles';
import { createTestDb, type TestDb } from '../support/db';

const onServer = Boolean(process.env.DATABASE_URL);

/**
 * The app's database role (what every suite's `db` connects as on PostgreSQL) can read and
 * write rows, but cannot rewrite the audit trail or switch off the triggers that guard it.
 * PGlite has no roles: there the guard is the append-only trigger alone.
 */
(onServer ? describe : describe.skip)('the app database role', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const auditRow = { request_id: 'r-role', actor_sub: 'olga', actor_role: 'ops', action: 'verification.start', status_code: 202, outcome: 'succeeded' };

  test('is neither superuser nor owner', async () => {
    const { rows } = (await t.db.raw(
      `SELECT current_user AS me, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, c.relowner = r.oid AS owns_audit_log
         FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.relname = 'audit_log'`,
    )) as { rows: Array<Record<string, unknown>> };
    expect(rows[0]).toEqual({ me: 'merchant_ops_app', rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false, owns_audit_log: false });
  });

  test('adds and reads audit rows, and counts security events', async () => {
    await t.db('audit_log').insert(auditRow);
    expect(await t.db('audit_log').where({ request_id: 'r-role' })).toHaveLength(1);
    const event = { minute: new Date('2026-12-01T00:00:00Z'), client_address: '10.0.0.1', kind: 'unauthenticated', count: 1, last_at: new Date() };
    await t.db('security_events').insert(event);
    await t.db('security_events').insert(event).onConflict(['minute', 'client_address', 'kind']).merge({ count: t.db.raw('security_events.count + excluded.count') });
    expect(await t.db('security_events').where({ client_address: '10.0.0.1' }).first()).toMatchObject({ count: 2 });
  });

  test.each([
    ['UPDATE audit_log', `UPDATE audit_log SET outcome = 'failed'`, /permission denied/],
    ['DELETE FROM audit_log', 'DELETE FROM audit_log', /permission denied/],
    ['TRUNCATE audit_log', 'TRUNCATE audit_log', /permission denied/],
    ['disable the append-only trigger', 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only', /must be owner/],
    ['disable every trigger', 'ALTER TABLE audit_log DISABLE TRIGGER ALL', /must be owner/],
    ['skip triggers through session_replication_role', 'SET session_replication_role = replica', /permission denied/],
    ['disable a ledger guard', 'ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_balanced', /must be owner/],
    ['drop the audit log', 'DROP TABLE audit_log', /must be owner/],
    ['make itself a superuser', 'ALTER ROLE merchant_ops_app SUPERUSER', /must be superuser|permission denied/],
  ])('cannot %s', async (_what, sql, refused) => {
    await expect(t.db.raw(sql)).rejects.toThrow(refused);
    expect(await t.db('audit_log').where({ request_id: 'r-role' }).first()).toMatchObject({ outcome: 'succeeded' });
  });

  test('running the grants as the app role itself widens nothing', async () => {
    // PostgreSQL grants nothing on tables the grantor does not own (a warning, not an error).
    await grantAppRole(t.db, 'merchant_ops_app');
    await expect(t.db.raw(`UPDATE audit_log SET outcome = 'failed'`)).rejects.toThrow(/permission denied/);
  });
});
