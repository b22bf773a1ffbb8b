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

export interface BenchCopy {
  db: Db;
  databaseUrl: string;
  /** Closes `db` and drops the copy. */
  drop(): Promise<void>;
}

/**
 * A migrated database seeded once by `seed`, then used only as a template: `run` gets as many
 * fresh copies of it as it asks for (`CREATE DATABASE … TEMPLATE`, a file copy), so each timed
 * run starts from the same data. PostgreSQL refuses to copy a database anyone is connected
 * to: the seeding connections are closed first and nothing connects to the template again.
 * The template and every copy are dropped afterwards, whatever happens.
 */
export async function withSeededTemplate(seed: (db: Db) => Promise<void>, run: (copy: () => Promise<BenchCopy>) => Promise<void>): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const urlOf = (name: string) => Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  const template = `merchant_ops_bench_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  const copies = new Set<string>();
  const drop = (name: string) => admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    await admin.raw(`CREATE DATABASE ${template}`);
    const db = createDb({ databaseUrl: urlOf(template) });
    try {
      await migrateToLatest(db);
      await seed(db);
      // Every copy starts analysed, with its visibility map set and its pages written.
      await db.raw('VACUUM (ANALYZE)');
      await db.raw('CHECKPOINT').catch(() => undefined);
    } finally {
      await db.destroy();
    }
    await run(async () => {
      const name = `${template}_${copies.size + 1}`;
      copies.add(name);
      // FILE_COPY: a copy of a large database without writing all of it to the WAL.
      await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
      const databaseUrl = urlOf(name);
      const copyDb = createDb({ databaseUrl });
      return {
        db: copyDb,
        databaseUrl,
        async drop() {
          await copyDb.destroy();
          await drop(name);
          copies.delete(name);
        },
      };
    });
  } finally {
    for (const name of copies) await drop(name);
    await drop(template);
    await admin.destroy();
  }
}
