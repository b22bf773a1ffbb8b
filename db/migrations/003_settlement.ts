import type { Knex } from 'knex';

const ORDER_STATUSES = ['paid', 'receipt_confirmed', 'refunded'] as const;
const RUN_STATUSES = ['running', 'completed', 'failed'] as const;
const STATEMENT_STATUSES = ['payable', 'carried', 'paid'] as const;
const PAYOUT_STATUSES = ['requested', 'paid'] as const;
const MERCHANT_FLAGS = ['forfeit_unsettled'] as const;

// docs/rules.md §3, seed table [src]: Taobao Union's technical service fee and
// Kuaishou's channel share, in basis points.
const SEED_RATES = [
  { category: 'apparel', union_fee_bp: 1000, channel_share_bp: 300 },
  { category: 'beauty', union_fee_bp: 1500, channel_share_bp: 400 },
  { category: 'digital', union_fee_bp: 800, channel_share_bp: 200 },
];

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const PERIOD_CHECK = `~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`;

/**
 * Monthly commission settlement: the orders of the platform feed, the fee rates by
 * category, one statement and at most one payout per merchant and period, the
 * bookkeeping of a settlement run, and the merchant flags settlement honours.
 *
 * Orders carry no foreign keys: they arrive from the platform feed for merchants we may
 * not have verified yet, and a 10M-row load must not pay for FK checks.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('orders', (t) => {
    t.text('id').primary();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.text('category').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('status').notNullable();
    t.timestamp('paid_at', { useTz: true }).notNullable();
    t.timestamp('receipt_confirmed_at', { useTz: true });
    t.timestamp('refunded_at', { useTz: true });
    // 'YYYY-MM' of the statement that paid the order, then of the one that took it back.
    t.text('settled_period');
    t.text('refund_settled_period');
    t.check('amount_fen > 0', [], 'orders_amount_check');
    t.check(`status IN (${quoted(ORDER_STATUSES)})`, [], 'orders_status_check');
  });
  // The two sets a settlement reads, each kept small by its predicate: orders waiting to
  // be settled, and settled orders whose refund is not yet on a statement. Without
  // `refunded_at IS NOT NULL` the second would hold every settled order ever.
  await db.raw(
    'CREATE INDEX orders_unsettled ON orders (merchant_id, receipt_confirmed_at) WHERE settled_period IS NULL',
  );
  await db.raw(
    'CREATE INDEX orders_refunds_to_carry ON orders (merchant_id, refunded_at) WHERE settled_period IS NOT NULL AND refund_settled_period IS NULL AND refunded_at IS NOT NULL',
  );

  // A rate change is a new row from its effective date; rows are never edited, so a
  // refund can recompute the fees its order was settled with.
  await db.schema.createTable('fee_rates', (t) => {
    t.text('category').notNullable();
    t.date('effective_from').notNullable();
    t.integer('union_fee_bp').notNullable();
    t.integer('channel_share_bp').notNullable();
    t.primary(['category', 'effective_from']);
    t.check('union_fee_bp BETWEEN 0 AND 10000', [], 'fee_rates_union_fee_check');
    t.check('channel_share_bp BETWEEN 0 AND 10000', [], 'fee_rates_channel_share_check');
  });
  await db('fee_rates').insert(SEED_RATES.map((r) => ({ ...r, effective_from: '2020-01-01' })));
  // Without statistics the planner takes this table for ~1,000 rows and may sort a million
  // order lines to merge-join them; with them it hashes the few rates.
  await db.raw('ANALYZE fee_rates');

  await db.schema.createTable('settlement_runs', (t) => {
    t.text('period').primary();
    t.text('status').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.integer('merchants_total');
    t.integer('merchants_done').notNullable().defaultTo(0);
    t.jsonb('failures').notNullable().defaultTo('[]');
    t.jsonb('totals').notNullable().defaultTo('{}');
    t.text('workflow_id');
    t.check(`status IN (${quoted(RUN_STATUSES)})`, [], 'settlement_runs_status_check');
    t.check(`period ${PERIOD_CHECK}`, [], 'settlement_runs_period_check');
  });

  // The primary key is the exactly-once guarantee: a retried or concurrent settlement
  // of the same merchant and period inserts nothing.
  await db.schema.createTable('statements', (t) => {
    t.text('merchant_id').notNullable();
    t.text('period').notNullable();
    for (const column of [
      'gmv_fen',
      'union_fee_fen',
      'channel_fee_fen',
      'refunds_fen',
      'carried_in_fen',
      'forfeited_fen',
      'net_fen',
      'payout_fen',
      'carried_out_fen',
    ]) {
      t.bigInteger(column).notNullable();
    }
    t.integer('line_count').notNullable();
    t.text('status').notNullable();
    t.text('payout_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['merchant_id', 'period']);
    t.check(`status IN (${quoted(STATEMENT_STATUSES)})`, [], 'statements_status_check');
    t.check(`period ${PERIOD_CHECK}`, [], 'statements_period_check');
    t.check(
      'gmv_fen >= 0 AND union_fee_fen >= 0 AND channel_fee_fen >= 0 AND refunds_fen >= 0 AND forfeited_fen >= 0 AND payout_fen >= 0 AND line_count >= 0',
      [],
      'statements_amounts_check',
    );
    // Every fen of the net is either paid out or carried forward, never both, never lost.
    t.check(
      'net_fen = gmv_fen - union_fee_fen - channel_fee_fen - refunds_fen + carried_in_fen - forfeited_fen AND net_fen = payout_fen + carried_out_fen AND (payout_fen = 0 OR carried_out_fen = 0)',
      [],
      'statements_balance_check',
    );
  });

  await db.schema.createTable('payouts', (t) => {
    t.text('idempotency_key').primary();
    t.text('merchant_id').notNullable();
    t.text('period').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('platform_payout_id');
    t.text('status').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('paid_at', { useTz: true });
    t.unique(['merchant_id', 'period']);
    t.foreign(['merchant_id', 'period']).references(['merchant_id', 'period']).inTable('statements');
    t.check('amount_fen > 0', [], 'payouts_amount_check');
    t.check(`status IN (${quoted(PAYOUT_STATUSES)})`, [], 'payouts_status_check');
    t.check(`idempotency_key = 'settle:' || merchant_id || ':' || period`, [], 'payouts_key_check');
  });

  // Set by the violations process (false advertising forfeits all unsettled commission);
  // settlement only reads it.
  await db.schema.createTable('merchant_flags', (t) => {
    t.text('merchant_id').notNullable();
    t.text('flag').notNullable();
    t.timestamp('since', { useTz: true }).notNullable();
    t.timestamp('until', { useTz: true });
    t.primary(['merchant_id', 'flag', 'since']);
    t.check(`flag IN (${quoted(MERCHANT_FLAGS)})`, [], 'merchant_flags_flag_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('merchant_flags');
  await db.schema.dropTableIfExists('payouts');
  await db.schema.dropTableIfExists('statements');
  await db.schema.dropTableIfExists('settlement_runs');
  await db.schema.dropTableIfExists('fee_rates');
  // Dropping the table drops its partial indexes.
  await db.schema.dropTableIfExists('orders');
}
