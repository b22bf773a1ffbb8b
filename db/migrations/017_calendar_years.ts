import type { Knex } from 'knex';

/**
 * Working-day calendar years loaded by ops (issue 10.14).
 *
 * - `calendar_years`: one row per year of official data (the State Council's notice), loaded
 *   through `PUT /v1/admin/calendar/:year`; every worker reads it, so no restart is needed.
 *   A row replaces the package's and the file's data for its year.
 * - `violation_cases.appeal_deadline_provisional`, `verification_cases.deadline_provisional`:
 *   the deadline counted days of a year without official data (the provisional calendar);
 *   loading that year re-plans these cases.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('calendar_years', (t) => {
    t.integer('year').primary();
    t.jsonb('holidays').notNullable();
    t.jsonb('workdays').notNullable();
    t.text('loaded_by').notNullable();
    t.timestamp('loaded_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check('year BETWEEN 2000 AND 2100', [], 'calendar_years_year_check');
  });
  await db.schema.alterTable('violation_cases', (t) => {
    t.boolean('appeal_deadline_provisional').notNullable().defaultTo(false);
  });
  await db.schema.alterTable('verification_cases', (t) => {
    t.boolean('deadline_provisional').notNullable().defaultTo(false);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('verification_cases', (t) => t.dropColumn('deadline_provisional'));
  await db.schema.alterTable('violation_cases', (t) => t.dropColumn('appeal_deadline_provisional'));
  await db.schema.dropTableIfExists('calendar_years');
}
