import type { Knex } from 'knex';

/**
 * The ledger's kinds as this migration created them. Frozen: a migration that has run must
 * build the same schema on a new database, so a later kind is added by its own migration
 * (013_receivables adds `receivable`), and db/repositories/ledger.ts builds the current
 * lists from these plus what the later migrations added.
 */
export const ACCOUNT_KINDS_AT_002 = ['deposit', 'promotion_deposit', 'sales_proceeds', 'merchant_payments', 'payouts', 'platform_income'] as const;
export const TRANSACTION_KINDS_AT_002 = ['top_up', 'deduction', 'proceeds_transfer', 'refund', 'forfeiture', 'reversal'] as const;

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * A check PostgreSQL runs at commit, once every row the transaction inserts into `table` is
 * in: a plpgsql function and the deferred constraint trigger that calls it for each inserted
 * row. PostgreSQL keeps the body's text as written between `$$` and ` $$`, white space and
 * all: databases migrated before this helper hold that text, so keep it unchanged.
 */
async function checkAtCommit(db: Knex, check: { trigger: string; table: string; fn: string; body: string }): Promise<void> {
  await db.raw(`
    CREATE FUNCTION ${check.fn}() RETURNS trigger LANGUAGE plpgsql AS $$${check.body} $$`);
  await db.raw(`
    CREATE CONSTRAINT TRIGGER ${check.trigger} AFTER INSERT ON ${check.table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ${check.fn}()`);
}

/**
 * The double-entry ledger behind both deposits, and the read models of the deposit
 * process: requirement, top-up episodes, restrictions, shop closures, the categories a
 * shop sells and the violation cases that hold a closure back.
 *
 * PGlite runs one statement per call, so every trigger and function is its own db.raw.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('ledger_accounts', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id');
    t.text('kind').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(['shop_id', 'kind']);
    t.check(`kind IN (${quoted(ACCOUNT_KINDS_AT_002)})`, [], 'ledger_accounts_kind_check');
    t.check(`id = shop_id || ':' || kind`, [], 'ledger_accounts_id_check');
  });

  await db.schema.createTable('ledger_transactions', (t) => {
    t.bigIncrements('id');
    t.text('idempotency_key').notNullable().unique();
    t.text('shop_id').notNullable().references('shops.id');
    t.text('kind').notNullable();
    t.text('reason').notNullable();
    t.text('actor').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['shop_id', 'id']);
    t.check(`kind IN (${quoted(TRANSACTION_KINDS_AT_002)})`, [], 'ledger_transactions_kind_check');
  });

  await db.schema.createTable('ledger_entries', (t) => {
    t.bigIncrements('id');
    t.bigInteger('transaction_id').notNullable().references('ledger_transactions.id');
    t.text('account_id').notNullable().references('ledger_accounts.id');
    t.bigInteger('amount_fen').notNullable();
    t.index(['account_id']);
    t.index(['transaction_id']);
    t.check('amount_fen <> 0', [], 'ledger_entries_amount_check');
  });

  // Checked at commit, when every entry of the transaction is in: the entries sum to
  // zero (so there are at least two) and every account belongs to the transaction's shop.
  await checkAtCommit(db, {
    trigger: 'ledger_entries_balanced',
    table: 'ledger_entries',
    fn: 'ledger_transaction_is_balanced',
    body: `
    DECLARE
      total numeric;
      foreign_accounts integer;
    BEGIN
      SELECT COALESCE(SUM(e.amount_fen), 0) INTO total
        FROM ledger_entries e WHERE e.transaction_id = NEW.transaction_id;
      IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: its entries sum to % fen', NEW.transaction_id, total
          USING ERRCODE = 'check_violation';
      END IF;
      SELECT COUNT(*) INTO foreign_accounts
        FROM ledger_entries e
        JOIN ledger_accounts a ON a.id = e.account_id
        JOIN ledger_transactions t ON t.id = e.transaction_id
       WHERE e.transaction_id = NEW.transaction_id AND a.shop_id <> t.shop_id;
      IF foreign_accounts > 0 THEN
        RAISE EXCEPTION 'ledger transaction % moves money of another shop', NEW.transaction_id
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END`,
  });

  // A transaction without entries moves nothing but would still claim its idempotency key.
  await checkAtCommit(db, {
    trigger: 'ledger_transactions_have_entries',
    table: 'ledger_transactions',
    fn: 'ledger_transaction_has_entries',
    body: `
    BEGIN
      IF (SELECT COUNT(*) FROM ledger_entries e WHERE e.transaction_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', NEW.id
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END`,
  });

  // Append-only: a wrong movement is corrected by a reversal, never by editing history.
  await db.raw(`
    CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END $$`);
  for (const table of ['ledger_transactions', 'ledger_entries']) {
    await db.raw(`
      CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only()`);
    await db.raw(`
      CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only()`);
  }

  await db.schema.createTable('deposit_accounts', (t) => {
    t.text('shop_id').primary().references('shops.id');
    t.bigInteger('required_fen').notNullable();
    t.jsonb('requirement_parts').notNullable();
    t.text('assessed_for_month');
    t.timestamp('assessed_at', { useTz: true });
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check(`status IN ('open', 'closed')`, [], 'deposit_accounts_status_check');
    t.check('required_fen >= 0', [], 'deposit_accounts_required_check');
  });

  // One top-up episode: from the balance falling below the requirement until it is
  // restored (or the shop closes). `schedule` is the ladder the workflow computed.
  await db.schema.createTable('deposit_episodes', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.bigInteger('required_fen').notNullable();
    t.bigInteger('balance_at_start_fen').notNullable();
    t.text('end_reason');
    t.jsonb('schedule').notNullable();
  });
  await db.raw('CREATE UNIQUE INDEX deposit_episodes_one_open_per_shop ON deposit_episodes (shop_id) WHERE ended_at IS NULL');

  await db.schema.createTable('deposit_episode_steps', (t) => {
    t.text('episode_id').notNullable().references('deposit_episodes.id');
    t.text('step').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.primary(['episode_id', 'step']);
  });

  // The same restriction may be held by both processes; lifting one source keeps the other.
  await db.schema.createTable('shop_restrictions', (t) => {
    t.text('shop_id').notNullable().references('shops.id');
    t.text('restriction').notNullable();
    t.timestamp('since', { useTz: true }).notNullable();
    t.text('source').notNullable();
    t.primary(['shop_id', 'restriction', 'source']);
    t.check(`source IN ('deposit', 'closure')`, [], 'shop_restrictions_source_check');
  });

  await db.schema.createTable('shop_closures', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id');
    t.text('workflow_id').notNullable();
    t.text('status').notNullable();
    t.text('requested_by').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable();
    t.bigInteger('refunded_fen');
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('cancelled_at', { useTz: true });
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['shop_id', 'requested_at']);
  });
  await db.raw(
    `CREATE UNIQUE INDEX shop_closures_one_active_per_shop ON shop_closures (shop_id) WHERE status NOT IN ('closed', 'cancelled')`,
  );

  // The violations process owns this table and will extend it; deposits only ask
  // whether a case is still open for a shop.
  await db.schema.createTable('violation_cases', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable();
    t.text('merchant_id').notNullable();
    t.text('level').notNullable();
    t.text('type').notNullable();
    t.text('status').notNullable();
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.timestamp('closed_at', { useTz: true });
    t.index(['shop_id', 'status']);
  });

  await db.schema.createTable('shop_categories', (t) => {
    t.text('shop_id').notNullable().references('shops.id');
    t.text('category').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.primary(['shop_id', 'category']);
    t.check(`status IN ('open', 'closed')`, [], 'shop_categories_status_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('shop_categories');
  await db.schema.dropTableIfExists('violation_cases');
  await db.schema.dropTableIfExists('shop_closures');
  await db.schema.dropTableIfExists('shop_restrictions');
  await db.schema.dropTableIfExists('deposit_episode_steps');
  await db.schema.dropTableIfExists('deposit_episodes');
  await db.schema.dropTableIfExists('deposit_accounts');
  // Dropping a table drops its triggers; the functions go afterwards.
  await db.schema.dropTableIfExists('ledger_entries');
  await db.schema.dropTableIfExists('ledger_transactions');
  await db.schema.dropTableIfExists('ledger_accounts');
  await db.raw('DROP FUNCTION IF EXISTS ledger_is_append_only()');
  await db.raw('DROP FUNCTION IF EXISTS ledger_transaction_has_entries()');
  await db.raw('DROP FUNCTION IF EXISTS ledger_transaction_is_balanced()');
}
