import { knex, type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import fs from 'node:fs';
import path from 'node:path';

// int8 (bigint) columns hold money in fen. node-postgres returns them as strings by
// default; we want numbers, and refuse values a JS number cannot hold exactly.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} is beyond Number.MAX_SAFE_INTEGER`);
  return n;
});

export interface DbTarget {
  /** A PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string;
  /** PGlite data folder; ':memory:' keeps it in memory (tests). */
  pgliteDir?: string;
}

export type Db = Knex;

export function createDb(target: DbTarget): Db {
  if (target.databaseUrl) {
    return knex({
      client: 'pg',
      connection: target.databaseUrl,
      pool: { min: 0, max: 10 },
    });
  }
  const dir = target.pgliteDir ?? ':memory:';
  if (dir !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  // knex-pglite pins the pool to a single connection: PGlite is single-user, so the
  // API and the worker share one process in the embedded dev stack.
  return knex({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: dir === ':memory:' ? {} : { filename: path.resolve(dir) },
  } as Knex.Config);
}

export function describeDbTarget(target: DbTarget): string {
  if (target.databaseUrl) {
    const url = new URL(target.databaseUrl);
    return `postgresql://${url.hostname}:${url.port || 5432}${url.pathname}`;
  }
  return `embedded PGlite (${target.pgliteDir ?? ':memory:'})`;
}
