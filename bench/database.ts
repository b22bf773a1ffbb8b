import { randomBytes } from 'node:crypto';
import { knex } from 'knex';
import { createDb, type Db } from '../db/connection';
import { migrateToLatest } from '../db/migrations';

/**
 * A fresh, migrated database on DATABASE_URL's server for one benchmark run, dropped afterwards
 * whatever happens: benchmarks never touch the database they are pointed at.
 */
export async function withBenchDatabase(run: (db: Db, databaseUrl: string) => Promise<void>): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `merchant_ops_bench_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDb({ databaseUrl: url.toString() });
  try {
    await migrateToLatest(db);
    await run(db, url.toString());
  } finally {
    await db.destroy();
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.destroy();
  }
}
