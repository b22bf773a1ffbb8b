import { randomBytes } from 'node:crypto';
import { knex } from 'knex';
import { createDb, type Db } from '../../db/connection';
import { migrateToLatest } from '../../db/migrations';
import { ensureAppRole, grantAppRole } from '../../db/roles';

export interface TestDb {
  db: Db;
  /** The database's URL when it is on a PostgreSQL server (other processes can reach it); absent for PGlite. */
  url?: string;
  destroy(): Promise<void>;
}

export interface TestDbOptions {
  /**
   * Who `db` connects as on a PostgreSQL server: the app's role (default), as the app and the
   * worker do in production, so every suite proves its grants are enough; or the schema owner,
   * for suites that migrate or switch triggers off on purpose.
   */
  as?: 'app' | 'owner';
}

/** The app's role in test databases; a fixed test-only password (the server trusts loopback). */
export const TEST_APP_ROLE = { name: 'merchant_ops_app', password: 'merchant-ops-test-app' };

/**
 * A fresh, migrated database per suite. With DATABASE_URL set (CI) it is a new database on
 * that PostgreSQL server, migrated by DATABASE_URL's user (the owner) and dropped afterwards;
 * otherwise an in-memory PGlite, which has no roles.
 */
export async function createTestDb({ as = 'app' }: TestDbOptions = {}): Promise<TestDb> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = createDb({ pgliteDir: ':memory:' });
    await migrateToLatest(db);
    return { db, destroy: () => db.destroy() };
  }
  const name = `merchant_ops_test_${randomBytes(6).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  // Roles belong to the server: every suite ensures the same one, serialised on `admin`'s database.
  await ensureAppRole(admin, TEST_APP_ROLE);
  const ownerUrl = new URL(serverUrl);
  ownerUrl.pathname = `/${name}`;
  const owner = createDb({ databaseUrl: ownerUrl.toString() });
  await migrateToLatest(owner);
  await grantAppRole(owner, TEST_APP_ROLE.name);
  if (as === 'app') await owner.destroy();
  const appUrl = new URL(ownerUrl);
  appUrl.username = TEST_APP_ROLE.name;
  appUrl.password = TEST_APP_ROLE.password;
  const url = as === 'app' ? appUrl.toString() : ownerUrl.toString();
  const db = as === 'app' ? createDb({ databaseUrl: url }) : owner;
  return {
    db,
    url,
    async destroy() {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
