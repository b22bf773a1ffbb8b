import type { Knex } from 'knex';

const MONTHLY_BALANCE = `net_fen = gmv_fen - union_fee_fen - channel_fee_fen - refunds_fen + carried_in_fen - forfeited_fen
  AND net_fen = payout_fen + carried_out_fen AND (payout_fen = 0 OR carried_out_fen = 0)`;

// A final statement (a closing shop's) carries nothing forward: a positive net is paid
// whatever the threshold, a negative one is owed and comes out of the deposit.
const WITH_FINAL_BALANCE = `net_fen = gmv_fen - union_fee_fen - channel_fee_fen - refunds_fen + carried_in_fen - forfeited_fen
  AND net_fen = payout_fen + carried_out_fen - owed_fen
  AND (payout_fen = 0 OR carried_out_fen = 0) AND (payout_fen = 0 OR owed_fen = 0)
  AND (kind = 'monthly' OR carried_out_fen = 0) AND (kind = 'final' OR owed_fen = 0)`;

/**
 * Final statements: the shop-closure flow settles a merchant's commission at once, through
 * the same statement code as the monthly run, under the period of the closure's month.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('statements', (t) => {
    t.text('kind').notNullable().defaultTo('monthly');
    t.bigInteger('owed_fen').notNullable().defaultTo(0);
    t.check(`kind IN ('monthly', 'final')`, [], 'statements_kind_check');
    t.check('owed_fen >= 0', [], 'statements_owed_check');
  });
  await db.raw('ALTER TABLE statements DROP CONSTRAINT statements_balance_check');
  await db.raw(`ALTER TABLE statements ADD CONSTRAINT statements_balance_check CHECK (${WITH_FINAL_BALANCE})`);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE statements DROP CONSTRAINT statements_balance_check');
  await db.schema.alterTable('statements', (t) => {
    t.dropChecks(['statements_kind_check', 'statements_owed_check']);
    t.dropColumn('kind');
    t.dropColumn('owed_fen');
  });
  await db.raw(`ALTER TABLE statements ADD CONSTRAINT statements_balance_check CHECK (${MONTHLY_BALANCE})`);
}
