import type { Knex } from 'knex';

const CASE_STATUSES = ['opening', 'appealable', 'appealed', 'in_effect', 'permanent', 'expired', 'reversed'] as const;
const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * Violation cases (docs/rules.md §4): the case as the violationCase process keeps it
 * (level, penalty, deadlines, appeal), its event history, restrictions held per case, and
 * the false-advertising forfeiture flag tied to its case and to the statement that used it.
 */
export async function up(db: Knex): Promise<void> {
  // Earlier statuses were only 'open' / 'closed' (nothing wrote them but tests).
  await db('violation_cases').where({ status: 'open' }).update({ status: 'appealable' });
  await db('violation_cases').where({ status: 'closed' }).update({ status: 'expired' });
  await db.schema.alterTable('violation_cases', (t) => {
    t.text('reported_level');
    t.text('escalated_because');
    t.integer('points').notNullable().defaultTo(0);
    t.jsonb('penalty');
    // What ops cited: a summary and product ids, never personal data.
    t.jsonb('evidence').notNullable().defaultTo('{}');
    t.text('opened_by');
    t.timestamp('appeal_deadline', { useTz: true });
    t.timestamp('effect_ends_at', { useTz: true });
    t.jsonb('appeal');
    t.bigInteger('fine_deducted_fen').notNullable().defaultTo(0);
    t.text('workflow_id');
    t.check(`status IN (${quoted(CASE_STATUSES)})`, [], 'violation_cases_status_check');
    t.check(`level IN ('general', 'serious', 'especially_serious')`, [], 'violation_cases_level_check');
    t.index(['merchant_id', 'opened_at']);
  });

  await db.schema.createTable('violation_events', (t) => {
    t.bigIncrements('id');
    t.text('case_id').notNullable().references('violation_cases.id');
    t.text('type').notNullable();
    t.text('actor').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    // The same step retried by an activity is recorded once.
    t.unique(['case_id', 'type']);
  });

  // A case holds its restrictions under its own source, so lifting them leaves what the
  // deposit ladder, a closure or another case holds.
  await db.raw('ALTER TABLE shop_restrictions DROP CONSTRAINT shop_restrictions_source_check');
  await db.raw(`ALTER TABLE shop_restrictions ADD CONSTRAINT shop_restrictions_source_check CHECK (source IN ('deposit', 'closure') OR source LIKE 'violation:%')`);

  await db.schema.alterTable('merchant_flags', (t) => {
    t.text('case_id');
    // The statement that forfeited under the flag, and how much: what an upheld appeal restores.
    t.text('consumed_period');
    t.bigInteger('forfeited_fen');
    t.timestamp('restored_at', { useTz: true });
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('merchant_flags', (t) => {
    t.dropColumns('case_id', 'consumed_period', 'forfeited_fen', 'restored_at');
  });
  await db('shop_restrictions').whereLike('source', 'violation:%').delete();
  await db.raw('ALTER TABLE shop_restrictions DROP CONSTRAINT shop_restrictions_source_check');
  await db.raw(`ALTER TABLE shop_restrictions ADD CONSTRAINT shop_restrictions_source_check CHECK (source IN ('deposit', 'closure'))`);
  await db.schema.dropTableIfExists('violation_events');
  await db.schema.alterTable('violation_cases', (t) => {
    t.dropChecks(['violation_cases_status_check', 'violation_cases_level_check']);
    t.dropIndex(['merchant_id', 'opened_at']);
    t.dropColumns('reported_level', 'escalated_because', 'points', 'penalty', 'evidence', 'opened_by', 'appeal_deadline', 'effect_ends_at', 'appeal', 'fine_deducted_fen', 'workflow_id');
  });
  await db('violation_cases').whereIn('status', ['appealable', 'appealed', 'opening', 'in_effect']).update({ status: 'open' });
  await db('violation_cases').whereNot({ status: 'open' }).update({ status: 'closed' });
}
