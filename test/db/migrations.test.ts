import { migratorConfig } from '../../db/migrations';
import { createTestDb, type TestDb } from '../support/db';

const TABLES = ['merchants', 'shops', 'verification_cases', 'verification_submissions', 'verification_events', 'audit_log'];

async function existingTables(t: TestDb): Promise<string[]> {
  const found: string[] = [];
  for (const table of TABLES) if (await t.db.schema.hasTable(table)) found.push(table);
  return found;
}

describe('migrations', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
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
