import type { Knex } from 'knex';

/**
 * Audit rows that survive a hang-up, and security events that cannot grow without bound.
 *
 * - `audit_log.status_code` may be empty: a mutation's attempt is written before the work
 *   starts, and an `aborted` row when the connection closes before any answer, neither with a
 *   status yet.
 * - `security_events`: refused authentication, forbidden requests and address rate limits,
 *   one row per client address, kind and minute with a count, so a flood of anonymous requests
 *   adds at most one row per address and minute instead of one row per request.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_log', (t) => {
    t.integer('status_code').nullable().alter();
    t.index(['request_id']);
  });
  await db.schema.createTable('security_events', (t) => {
    t.timestamp('minute', { useTz: true }).notNullable();
    t.text('client_address').notNullable();
    t.text('kind').notNullable();
    t.bigInteger('count').notNullable();
    t.timestamp('last_at', { useTz: true }).notNullable();
    t.primary(['minute', 'client_address', 'kind']);
    t.check(`kind IN ('unauthenticated', 'forbidden', 'rate_limited')`, [], 'security_events_kind_check');
    t.check('count > 0', [], 'security_events_count_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('security_events');
  await db.schema.alterTable('audit_log', (t) => {
    t.dropIndex(['request_id']);
  });
  // status_code stays nullable: attempt rows cannot be rewritten (the table is append-only),
  // and code before this migration always writes a status, so it runs unchanged.
}
