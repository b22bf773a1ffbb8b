import type { Knex } from 'knex';

/**
 * Fee rates managed through the API, and the Idempotency-Key of money requests (issue 12).
 *
 * `fee_rates` (docs/rules.md §3): a rate is never rewritten once a statement used it. A
 * version of a category's rate is "used" when a settled order of that category was confirmed
 * (Shanghai date) inside the version's window, [effective_from, the next version's
 * effective_from). So:
 * - an UPDATE is always refused: a change is a new version from a date;
 * - an INSERT is refused when the window it takes over holds a settled line (it would reprice a
 *   line a statement already priced, and its later refund);
 * - a DELETE is refused when the version was used (an unused mistake may be taken back).
 * The checks and every settlement range take one advisory lock (exclusive here, shared in
 * db/repositories/settlement/statements.ts), so a rate cannot slip in under a statement being
 * written: whichever commits second sees the other.
 *
 * `idempotency_keys`: one row per (caller, key); the request's fingerprint and, once it is
 * final, the first answer, replayed for the same request (api/idempotency.ts).
 */

export const FEE_RATES_LOCK = `hashtext('fee_rates')`;
export const FEE_RATE_HISTORY_CONSTRAINT = 'fee_rates_history_used';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('fee_rates', (t) => {
    t.text('created_by').notNullable().defaultTo('migration');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check('union_fee_bp + channel_share_bp <= 10000', [], 'fee_rates_total_check');
  });

  // The latest Shanghai receipt date of a settled line of the category in [from, until).
  await db.raw(`
    CREATE FUNCTION fee_rate_last_priced(p_category text, p_from date, p_until date) RETURNS date
    LANGUAGE sql STABLE AS $$
      SELECT max((o.receipt_confirmed_at AT TIME ZONE 'Asia/Shanghai')::date)
        FROM orders o
       WHERE o.category = p_category AND o.settled_period IS NOT NULL
         AND o.receipt_confirmed_at >= (p_from::timestamp AT TIME ZONE 'Asia/Shanghai')
         AND (p_until IS NULL OR o.receipt_confirmed_at < (p_until::timestamp AT TIME ZONE 'Asia/Shanghai'))
    $$`);

  await db.raw(`
    CREATE FUNCTION fee_rates_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      v_row fee_rates;
      v_until date;
      v_used date;
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'fee rate % from % is never edited: add a new rate from a date', OLD.category, OLD.effective_from
          USING ERRCODE = 'check_violation', CONSTRAINT = '${FEE_RATE_HISTORY_CONSTRAINT}';
      END IF;
      v_row := CASE WHEN TG_OP = 'INSERT' THEN NEW ELSE OLD END;
      PERFORM pg_advisory_xact_lock(${FEE_RATES_LOCK});
      -- The same category and day again: the primary key refuses it, naming what it is.
      IF TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM fee_rates r WHERE r.category = NEW.category AND r.effective_from = NEW.effective_from) THEN
        RETURN NEW;
      END IF;
      SELECT min(r.effective_from) INTO v_until FROM fee_rates r
       WHERE r.category = v_row.category AND r.effective_from > v_row.effective_from;
      v_used := fee_rate_last_priced(v_row.category, v_row.effective_from, v_until);
      IF v_used IS NOT NULL THEN
        RAISE EXCEPTION 'a statement priced a % line confirmed on %: a rate from % would rewrite it', v_row.category, v_used, v_row.effective_from
          USING ERRCODE = 'check_violation', CONSTRAINT = '${FEE_RATE_HISTORY_CONSTRAINT}', DETAIL = v_used::text;
      END IF;
      RETURN CASE WHEN TG_OP = 'INSERT' THEN NEW ELSE OLD END;
    END $$`);
  await db.raw(`
    CREATE TRIGGER fee_rates_keep_history BEFORE INSERT OR UPDATE OR DELETE ON fee_rates
    FOR EACH ROW EXECUTE FUNCTION fee_rates_keep_history()`);

  await db.schema.createTable('idempotency_keys', (t) => {
    // Keys are the caller's own: two callers sending the same key are two requests.
    t.text('caller_sub').notNullable();
    t.text('key').notNullable();
    t.text('route').notNullable();
    t.text('fingerprint').notNullable();
    t.text('state').notNullable();
    t.integer('status_code');
    t.jsonb('response_body');
    // The audit naming (action, target) of the first answer, for the audit rows of replays.
    t.jsonb('audit');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.primary(['caller_sub', 'key']);
    t.check(`state IN ('in_progress', 'done')`, [], 'idempotency_keys_state_check');
    t.check(`(state = 'done') = (status_code IS NOT NULL)`, [], 'idempotency_keys_answer_check');
    t.check('char_length(key) BETWEEN 1 AND 128', [], 'idempotency_keys_key_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('idempotency_keys');
  await db.raw('DROP TRIGGER IF EXISTS fee_rates_keep_history ON fee_rates');
  await db.raw('DROP FUNCTION IF EXISTS fee_rates_keep_history()');
  await db.raw('DROP FUNCTION IF EXISTS fee_rate_last_priced(text, date, date)');
  await db.schema.alterTable('fee_rates', (t) => {
    t.dropChecks(['fee_rates_total_check']);
    t.dropColumns('created_by', 'created_at');
  });
}
