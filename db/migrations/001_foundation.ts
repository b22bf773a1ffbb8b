import type { Knex } from 'knex';

/**
 * Merchants, shops, verification cases with their submissions and events, and the
 * append-only audit log. Personal data (ID numbers, bank cards) is stored encrypted
 * with a masked copy for roles that may not see it (see security/pii.ts).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('merchants', (t) => {
    t.text('id').primary();
    t.text('entity_type').notNullable();
    t.text('legal_name').notNullable();
    t.text('verification_status').notNullable().defaultTo('unverified');
    t.timestamp('verified_at', { useTz: true });
    t.timestamps(true, true);
  });

  await db.schema.createTable('shops', (t) => {
    t.text('id').primary();
    t.text('merchant_id').notNullable().references('merchants.id').unique();
    t.text('shop_type').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.text('opened_by_case_id').notNullable();
    t.timestamps(true, true);
  });

  await db.schema.createTable('verification_cases', (t) => {
    t.text('id').primary();
    t.text('merchant_id').notNullable().references('merchants.id');
    t.text('workflow_id').notNullable();
    t.text('run_id');
    t.text('entity_type').notNullable();
    t.text('legal_name').notNullable();
    t.text('status').notNullable();
    t.timestamp('submitted_at', { useTz: true }).notNullable();
    t.timestamp('deadline', { useTz: true });
    t.boolean('overdue').notNullable().defaultTo(false);
    t.timestamp('resubmit_by', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.timestamps(true, true);
    t.index(['merchant_id', 'created_at']);
  });

  await db.schema.createTable('verification_submissions', (t) => {
    t.text('case_id').notNullable().references('verification_cases.id');
    t.integer('seq').notNullable();
    t.text('id_number_cipher');
    t.text('id_number_masked');
    t.text('uscc_cipher');
    t.text('uscc_masked');
    t.text('legal_rep_name');
    t.text('legal_rep_id_cipher');
    t.text('legal_rep_id_masked');
    t.text('bank_name');
    t.text('bank_card_cipher');
    t.text('bank_card_masked');
    t.jsonb('documents').notNullable();
    t.jsonb('bound_stores').notNullable();
    t.timestamp('submitted_at', { useTz: true }).notNullable();
    t.primary(['case_id', 'seq']);
  });

  // One row per thing that happened to a case; (case_id, seq) makes a retried
  // activity write its event once.
  await db.schema.createTable('verification_events', (t) => {
    t.text('case_id').notNullable().references('verification_cases.id');
    t.integer('seq').notNullable();
    t.text('type').notNullable();
    t.text('actor').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.primary(['case_id', 'seq']);
  });

  await db.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('request_id').notNullable();
    t.text('actor_sub').notNullable();
    t.text('actor_role').notNullable();
    t.text('action').notNullable();
    t.text('target');
    t.integer('status_code').notNullable();
    t.text('outcome').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['target', 'at']);
  });
  // Append-only: the database itself refuses to rewrite history.
  await db.raw(`
    CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only';
    END $$`);
  await db.raw(`
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()`);
  await db.raw(`
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()`);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log');
  await db.raw('DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log');
  await db.raw('DROP FUNCTION IF EXISTS audit_log_is_append_only()');
  await db.schema.dropTableIfExists('audit_log');
  await db.schema.dropTableIfExists('verification_events');
  await db.schema.dropTableIfExists('verification_submissions');
  await db.schema.dropTableIfExists('verification_cases');
  await db.schema.dropTableIfExists('shops');
  await db.schema.dropTableIfExists('merchants');
}
