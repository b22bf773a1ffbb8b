import type { Knex } from 'knex';

/**
 * Fulfilment (docs/rules.md §5.4): the feed's shipping facts on `orders`, and what the
 * fulfilment scan records. On `orders` every column is nullable without a default, so
 * PostgreSQL adds them without rewriting a 10M-row table; orders imported before this
 * migration keep null and are not scanned (nothing is known of their shipping).
 *
 * Each scan reads one partial index kept small by its predicate:
 * - `orders_ship_by`: every order with a deadline, read once by the due-orders watermark and
 *   once by the warnings watermark (12 hours ahead of it). No separate index of unshipped
 *   orders: each order is read once by each watermark anyway, and one index fewer is one
 *   write fewer for every order the import inserts or changes;
 * - `orders_in_transit`: shipped orders not yet received nor found silent, by their last
 *   tracking instant; an order leaves it once its no_tracking exception is recorded
 *   (`silence_recorded`), so the silent orders of past runs are not read again;
 * - `orders_exception_to_record`: orders whose reported lost/damaged is not recorded yet
 *   (`exception_recorded` differs), empty again once the scan has recorded them.
 * Work done leaves the index its pass reads: a run every 10 minutes over 10M open orders
 * reads only what is still to do (test/db/fulfilment-scan-work.test.ts proves it on the plans).
 * The scan's own tables have the business key as their key, so a rerun adds nothing twice.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('orders', (t) => {
    t.text('partner_platform');
    t.text('partner_order_id');
    t.timestamp('presale_promised_at', { useTz: true });
    // The shipping deadline domain/fulfilment.ts computed at import (shipDeadline).
    t.timestamp('ship_by', { useTz: true });
    t.timestamp('shipped_at', { useTz: true });
    t.text('tracking_number');
    t.timestamp('tracking_updated_at', { useTz: true });
    t.text('logistics_exception');
    // Written by the scan only, never by the import: which reported exception it last recorded,
    // and that it recorded the order's silent tracking (each order and kind is compensated once).
    t.text('exception_recorded');
    t.boolean('silence_recorded');
  });
  // One Kuaishou order per partner order: the mapping answers both ways.
  await db.raw('CREATE UNIQUE INDEX orders_partner_order ON orders (partner_platform, partner_order_id) WHERE partner_order_id IS NOT NULL');
  await db.raw('CREATE INDEX orders_ship_by ON orders (ship_by, id) WHERE ship_by IS NOT NULL');
  await db.raw(
    "CREATE INDEX orders_in_transit ON orders ((COALESCE(tracking_updated_at, shipped_at)), id) WHERE shipped_at IS NOT NULL AND status = 'paid' AND logistics_exception IS NULL AND silence_recorded IS NULL",
  );
  await db.raw('CREATE INDEX orders_exception_to_record ON orders (id) WHERE logistics_exception IS NOT NULL AND logistics_exception IS DISTINCT FROM exception_recorded');

  // Named positions of the scan's keyset passes (the due-orders and the warnings watermarks).
  await db.schema.createTable('fulfilment_cursors', (t) => {
    t.text('name').primary();
    t.timestamp('ship_by', { useTz: true }).notNullable();
    t.text('order_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // Per shop and Shanghai day of the deadline: orders due and orders late (the 48-hour shipping rate).
  await db.schema.createTable('shipping_days', (t) => {
    t.text('shop_id').notNullable();
    t.date('day').notNullable();
    t.text('merchant_id').notNullable();
    t.integer('due').notNullable();
    t.integer('late').notNullable();
    t.primary(['shop_id', 'day']);
    t.check('due >= 0 AND late >= 0 AND late <= due', [], 'shipping_days_counts_check');
  });
  await db.raw('CREATE INDEX shipping_days_merchant ON shipping_days (merchant_id, day)');

  await db.schema.createTable('late_shipments', (t) => {
    t.text('order_id').primary();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.date('day').notNullable();
    t.timestamp('ship_by', { useTz: true }).notNullable();
    // Null while the order is still unshipped; filled when it ships.
    t.timestamp('shipped_at', { useTz: true });
    // Set when the order was refunded without ever shipping: nothing is left to fill in.
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.raw('CREATE INDEX late_shipments_shop_day ON late_shipments (shop_id, day, order_id)');
  await db.raw('CREATE INDEX late_shipments_unshipped ON late_shipments (order_id) WHERE shipped_at IS NULL AND closed_at IS NULL');

  await db.schema.createTable('shipping_warnings', (t) => {
    t.text('order_id').primary();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.timestamp('ship_by', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('notified_at', { useTz: true });
    t.text('notification_id');
    // The platform refused the notification (final, not retried): ops read why here.
    t.text('refused_reason');
  });
  await db.raw('CREATE INDEX shipping_warnings_to_send ON shipping_warnings (order_id) WHERE notified_at IS NULL AND refused_reason IS NULL');

  await db.schema.createTable('logistics_exceptions', (t) => {
    t.text('order_id').notNullable();
    t.text('kind').notNullable();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.bigInteger('order_amount_fen').notNullable();
    t.bigInteger('compensation_fen').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.text('compensation_id');
    t.text('refused_reason');
    t.timestamp('detected_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('settled_at', { useTz: true });
    t.primary(['order_id', 'kind']);
    t.check("kind IN ('no_tracking', 'lost', 'damaged')", [], 'logistics_exceptions_kind_check');
    // 'covered': the order's earlier compensations already reached its amount; kept, never paid.
    t.check("status IN ('pending', 'paid', 'refused', 'covered')", [], 'logistics_exceptions_status_check');
    t.check("compensation_fen >= 0 AND compensation_fen <= order_amount_fen AND (compensation_fen = 0) = (status = 'covered')", [], 'logistics_exceptions_amount_check');
  });
  await db.raw("CREATE INDEX logistics_exceptions_pending ON logistics_exceptions (order_id, kind) WHERE status = 'pending'");
  await db.raw('CREATE INDEX logistics_exceptions_shop ON logistics_exceptions (shop_id, detected_at, order_id, kind)');
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['logistics_exceptions', 'shipping_warnings', 'late_shipments', 'shipping_days', 'fulfilment_cursors']) {
    await db.schema.dropTableIfExists(table);
  }
  for (const index of ['orders_partner_order', 'orders_ship_by', 'orders_in_transit', 'orders_exception_to_record']) {
    await db.raw('DROP INDEX IF EXISTS ??', [index]);
  }
  await db.schema.alterTable('orders', (t) => {
    for (const column of ['partner_platform', 'partner_order_id', 'presale_promised_at', 'ship_by', 'shipped_at', 'tracking_number', 'tracking_updated_at', 'logistics_exception', 'exception_recorded', 'silence_recorded']) {
      t.dropColumn(column);
    }
  });
}
