import { knex } from 'knex';
import type { Db } from '../../db/connection';

/**
 * Runs DDL a test needs (a constraint that makes a step fail for good, a table moved away)
 * as the database's owner: on a PostgreSQL server that is DATABASE_URL's user, whatever role
 * the suite's own connection uses; PGlite has no roles.
 */
export async function asOwner(db: Db, sql: string): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    await db.raw(sql);
    return;
  }
  const { rows } = (await db.raw('SELECT current_database() AS name')) as { rows: Array<{ name: string }> };
  const url = new URL(serverUrl);
  url.pathname = `/${rows[0]!.name}`;
  const owner = knex({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
  try {
    await owner.raw(sql);
  } finally {
    await owner.destroy();
  }
}
