import { escapeLiteral } from 'pg';
import type { Knex } from 'knex';
import { migrateToLatest } from './migrations';
import { createDb } from './connection';

/**
 * The app and the worker connect as a role that only reads and writes rows: it owns nothing,
 * so it cannot ALTER TABLE … DISABLE TRIGGER (the audit log's and the ledger's guards), it is
 * no superuser, so it cannot SET session_replication_role (which would skip every trigger),
 * and it has no UPDATE, DELETE or TRUNCATE on audit_log. Migrations run as the schema owner
 * and (re)apply these grants after every run, so a new table is covered at once.
 */
export interface AppRole {
  name: string;
  password: string;
}

/** Tables whose rows the app may add and read but never change. */
const APPEND_ONLY_FOR_APP = ['audit_log'];
/** Migration bookkeeping: the app reads it at most. */
const OWNER_ONLY = ['knex_migrations', 'knex_migrations_lock'];

/** The role named in a connection string (its user and password). */
export function roleOf(databaseUrl: string): AppRole {
  const url = new URL(databaseUrl);
  return { name: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/**
 * Creates the role, or brings an existing one back to exactly this: may log in with this
 * password, nothing more. Roles belong to the whole server, so concurrent callers on the
 * same database are serialised by an advisory lock.
 */
export async function ensureAppRole(owner: Knex, role: AppRole): Promise<void> {
  await owner.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('merchant-ops app role'))`);
    const exists = await trx('pg_roles').where({ rolname: role.name }).first();
    const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
    const password = role.password ? `PASSWORD ${escapeLiteral(role.password)}` : 'PASSWORD NULL';
    await trx.raw(`${exists ? 'ALTER' : 'CREATE'} ROLE ?? WITH ${attributes} ${password}`, [role.name]);
  });
}

/** Grants in the current database; idempotent, and it first takes back anything broader. */
export async function grantAppRole(owner: Knex, roleName: string): Promise<void> {
  const { rows } = (await owner.raw('SELECT current_database() AS name')) as { rows: Array<{ name: string }> };
  await owner.transaction(async (trx) => {
    await trx.raw('GRANT CONNECT, TEMPORARY ON DATABASE ?? TO ??', [rows[0]!.name, roleName]);
    await trx.raw('GRANT USAGE ON SCHEMA public TO ??', [roleName]);
    await trx.raw('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ??', [roleName]);
    await trx.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ??', [roleName]);
    for (const table of APPEND_ONLY_FOR_APP) await trx.raw('REVOKE UPDATE, DELETE ON ?? FROM ??', [table, roleName]);
    for (const table of OWNER_ONLY) {
      if (await trx.schema.hasTable(table)) await trx.raw('REVOKE INSERT, UPDATE, DELETE ON ?? FROM ??', [table, roleName]);
    }
    await trx.raw('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ??', [roleName]);
    // Order ids are registered once and never change (migration 030); the monthly partitions
    // are made by the owner's functions, which only the app's role may call.
    if (await trx.schema.hasTable('order_ids')) {
      await trx.raw('REVOKE UPDATE, DELETE ON order_ids FROM ??', [roleName]);
      for (const fn of ['ensure_order_partition(date)', 'ensure_order_partitions(date, date)']) {
        await trx.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO ??`, [roleName]);
      }
    }
  });
}

/** Migrates with the owner's connection, then, when the app connects as another role, creates or updates it and grants it its DML. */
export async function migrateAndGrant(owner: Knex, ownerUrl: string | undefined, appUrl: string | undefined): Promise<string[]> {
  const applied = await migrateToLatest(owner);
  if (appUrl && ownerUrl && roleOf(appUrl).name !== roleOf(ownerUrl).name) {
    const role = roleOf(appUrl);
    await ensureAppRole(owner, role);
    await grantAppRole(owner, role.name);
  }
  return applied;
}

/**
 * The dev stack's start: migrates over `appDb` when there is no separate owner (PGlite, or one
 * role for everything), else over a short-lived owner connection (MIGRATION_DATABASE_URL).
 */
export async function migrateAsOwner(appDb: Knex, targets: { databaseUrl?: string; migrationDatabaseUrl?: string }): Promise<string[]> {
  const { databaseUrl, migrationDatabaseUrl } = targets;
  if (!databaseUrl || !migrationDatabaseUrl || migrationDatabaseUrl === databaseUrl) return migrateToLatest(appDb);
  const owner = createDb({ databaseUrl: migrationDatabaseUrl });
  try {
    return await migrateAndGrant(owner, migrationDatabaseUrl, databaseUrl);
  } finally {
    await owner.destroy();
  }
}
