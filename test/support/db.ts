import { randomBytes } from 'node:crypto';
import { knex } from 'knex';
import { createDb, type Db } from '../../db/connection';
import { migrateToLatest } from '../../db/migrations';

export interface TestDb {
  db: Db;
  /** The database's URL when it is on a PostgreSQL server (other processes can reach it); absent for PGlite. */
  url?: string;
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database per suite. With DATABASE_URL set (CI) it is a new
 * database on that PostgreSQL server, dropped afterwards; otherwise an in-memory PGlite.
 */
export async function createTestDb(): Promise<TestDb> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = createDb({ pgliteDir: ':memory:' });
    await migrateToLatest(db);
    return { db, destroy: () => db.destroy() };
  }
  const name = `merchant_ops_test_${randomBytes(6).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDb({ databaseUrl: url.toString() });
  await migrateToLatest(db);
  return {
    db,
    url: url.toString(),
    async destroy() {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
