import type { Knex } from 'knex';

/**
 * Enforcement actions (docs/rules.md §5.5): a shop found selling under a forged brand
 * authorisation has its withdrawals restricted and every consumer order refunded.
 *
 * `enforcement_actions`: one row per action. Opened by one person (`opened_by`) with the
 * evidence as text, approved or rejected by another (`approved_by`, `rejected_by`); the CHECKs
 * make maker ≠ checker hold even for a write that bypassed the process. `state`:
 * awaiting_approval → refunding ⇄ paused → completed, or rejected; refunding or paused →
 * needs_attention → refunding or paused when the platform refused a step for good (a 400) and ops
 * retry it. `attention_*` say which step waits and why, set exactly while it waits.
 *
 * `enforcement_refunds`: one row per order the action dealt with, `refunded` (the platform's
 * refund id and time) or `refused` (the platform's reason code, final). The order is the
 * primary key: an order is refunded once whatever reruns, retries or second actions on the
 * same shop do. `attempts` is the attempt of the page's activity that recorded it (above 1:
 * the page was retried, and the platform answered its orders from their keys).
 *
 * `orders_by_shop`: the refund pages walk one shop's orders by id (a keyset), which without it
 * would be a scan of every order of every shop per page.
 *
 * `enforcement_refunds_by_action`: an action's progress (`counts()`) and its refund list
 * (keyset by order) read one action's rows; the table holds every action's rows and only
 * grows, so without it both are a scan of all of them.
 *
 * `orders` is not written by enforcement: the platform appends each refund to the order feed
 * and the order import is the one writer of `orders` (see db/repositories/enforcement.ts).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('enforcement_actions', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id');
    t.text('merchant_id').notNullable().references('merchants.id');
    t.text('reason').notNullable();
    t.text('evidence').notNullable();
    t.text('opened_by').notNullable();
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('approved_by');
    t.timestamp('approved_at', { useTz: true });
    t.text('rejected_by');
    t.timestamp('rejected_at', { useTz: true });
    t.text('state').notNullable().defaultTo('awaiting_approval');
    t.text('workflow_id').notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('attention_step');
    t.text('attention_error');
    t.timestamp('attention_since', { useTz: true });
    t.check(`state IN ('awaiting_approval', 'refunding', 'paused', 'needs_attention', 'completed', 'rejected')`, [], 'enforcement_actions_state_check');
    t.check(
      `(state = 'needs_attention') = (attention_step IS NOT NULL AND attention_error IS NOT NULL AND attention_since IS NOT NULL)
        AND (state = 'needs_attention' OR (attention_step IS NULL AND attention_error IS NULL AND attention_since IS NULL))`,
      [],
      'enforcement_actions_attention_check',
    );
    t.check('approved_by IS NULL OR approved_by <> opened_by', [], 'enforcement_actions_maker_checker');
    t.check('rejected_by IS NULL OR rejected_by <> opened_by', [], 'enforcement_actions_rejecter_not_maker');
    t.check(`state IN ('awaiting_approval', 'rejected') OR approved_by IS NOT NULL`, [], 'enforcement_actions_approved_to_act');
    t.index(['shop_id', 'opened_at'], 'enforcement_actions_shop_idx');
  });
  await db.schema.createTable('enforcement_refunds', (t) => {
    // No foreign keys: each is a trigger per inserted row (a page is 500–1,000 rows); the order's
    // alone took 16 of a 1,000-order page's 64 ms (EXPLAIN ANALYZE, 100k orders), the action's
    // locks its one row once per order. Both ids come from rows read just before: the order from
    // the page's own select, the action from the row the API wrote before starting the process.
    t.text('order_id').primary();
    t.text('action_id').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.text('state').notNullable();
    t.text('platform_refund_id');
    t.text('reason_code');
    t.integer('attempts').notNullable().defaultTo(1);
    t.timestamp('refunded_at', { useTz: true });
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check('amount_fen > 0', [], 'enforcement_refunds_amount_check');
    t.check(
      `(state = 'refunded' AND platform_refund_id IS NOT NULL AND refunded_at IS NOT NULL AND reason_code IS NULL)
        OR (state = 'refused' AND reason_code IS NOT NULL AND platform_refund_id IS NULL)`,
      [],
      'enforcement_refunds_outcome_check',
    );
  });
  // One action's rows, keyset by order: the unfiltered refund list reads it in order, and
  // counts() by state from the index alone (state included). A second index entry per inserted
  // row; without it every progress read and list page scans every action's rows.
  await db.raw('CREATE INDEX enforcement_refunds_by_action ON enforcement_refunds (action_id, order_id) INCLUDE (state)');
  // The refusals ops read, keyset by order: few among many refunded rows of the same action, so
  // their own partial index instead of filtering the action's index.
  await db.raw(`CREATE INDEX enforcement_refunds_refused ON enforcement_refunds (action_id, order_id) WHERE state = 'refused'`);
  await db.raw('CREATE INDEX orders_by_shop ON orders (shop_id, id)');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP INDEX IF EXISTS orders_by_shop');
  await db.schema.dropTableIfExists('enforcement_refunds');
  await db.schema.dropTableIfExists('enforcement_actions');
}
