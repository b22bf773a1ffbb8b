import type { Knex } from 'knex';

/**
 * Money into a deposit comes from a payment, and money out goes back to it.
 *
 * `deposit_payments`: one row per payment credited to a deposit: a payment the platform
 * confirmed, an offline transfer approved by a second person, or sales proceeds the ladder
 * took. Its id is the key that credits it once; `refunded_fen` is what went back to its payer
 * account, and the database refuses more than was paid.
 * `deposit_payment_refunds`: how each payout was split over payments, once per payout key.
 * `offline_top_ups`: a transfer finance recorded, credited only after someone else approves it.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('deposit_payments', (t) => {
    t.text('payment_id').primary();
    t.text('shop_id').notNullable().references('shops.id');
    t.text('account').notNullable();
    t.text('source').notNullable();
    t.text('payer_account').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.bigInteger('refunded_fen').notNullable().defaultTo(0);
    t.bigInteger('ledger_transaction_id').notNullable().unique().references('ledger_transactions.id');
    t.timestamp('credited_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['shop_id', 'account', 'credited_at']);
    t.check(`account IN ('deposit', 'promotion_deposit')`, [], 'deposit_payments_account_check');
    t.check(`source IN ('platform', 'offline_transfer', 'sales_proceeds')`, [], 'deposit_payments_source_check');
    t.check('amount_fen > 0', [], 'deposit_payments_amount_check');
    t.check('refunded_fen >= 0 AND refunded_fen <= amount_fen', [], 'deposit_payments_refunded_check');
  });

  await db.schema.createTable('deposit_payment_refunds', (t) => {
    t.bigIncrements('id');
    // The payout's business key (`closure:<id>:refund:<account>`, `promotion-excess:…`).
    t.text('refund_key').notNullable();
    t.text('payment_id').notNullable().references('deposit_payments.payment_id');
    t.bigInteger('amount_fen').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(['refund_key', 'payment_id']);
    t.check('amount_fen > 0', [], 'deposit_payment_refunds_amount_check');
  });

  await db.schema.createTable('offline_top_ups', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id');
    t.text('account').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('payer_account').notNullable();
    t.text('transfer_reference').notNullable();
    t.text('status').notNullable().defaultTo('pending_approval');
    t.text('recorded_by').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.text('approved_by');
    t.timestamp('approved_at', { useTz: true });
    t.unique(['shop_id', 'transfer_reference']);
    t.check(`account IN ('deposit', 'promotion_deposit')`, [], 'offline_top_ups_account_check');
    t.check('amount_fen > 0', [], 'offline_top_ups_amount_check');
    t.check(`status IN ('pending_approval', 'approved')`, [], 'offline_top_ups_status_check');
    // Maker and checker are two people, whatever the code above the database does.
    t.check(
      `(status = 'pending_approval' AND approved_by IS NULL) OR (status = 'approved' AND approved_by IS NOT NULL AND approved_by <> recorded_by)`,
      [],
      'offline_top_ups_maker_checker',
    );
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('offline_top_ups');
  await db.schema.dropTableIfExists('deposit_payment_refunds');
  await db.schema.dropTableIfExists('deposit_payments');
}
