import type { Knex } from 'knex';

/**
 * Forfeiture restored once (issue 10):
 * - `merchant_flags.restored_fen`: what an upheld appeal paid back under the flag. Several
 *   flags can share one statement's forfeiture; only the last of them to be upheld pays it
 *   back, less the commission of forfeited lines refunded since, so this is not simply the
 *   flag's share (`forfeited_fen`). A repeated restore answers it again.
 * - `statements(period)`: a run's totals are summed from the period's statements.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('merchant_flags', (t) => {
    t.bigInteger('restored_fen');
  });
  await db.schema.alterTable('statements', (t) => {
    t.index(['period'], 'statements_period_idx');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('statements', (t) => {
    t.dropIndex(['period'], 'statements_period_idx');
  });
  await db.schema.alterTable('merchant_flags', (t) => {
    t.dropColumn('restored_fen');
  });
}
