import type { Knex } from 'knex';

/**
 * `orders` partitioned by the month it was paid in (Asia/Shanghai), declaratively, so a month
 * of orders is one table: a settlement reads mostly its period's partition and the one before
 * it (orders paid late in one month are confirmed early in the next), partitions it no longer
 * needs hold no unsettled order and are skipped by their empty partial indexes, and an old
 * month is detached and archived as a whole (`npm run archive-orders`).
 *
 * Why the month paid, not the month confirmed or settled: it is fixed when the order is
 * created, so it can be part of the key. A key that changes later (receipt_confirmed_at is
 * NULL until receipt; settled_period until settlement) moves every order once and cannot
 * be in a unique constraint: measured on 5M orders over 20 months, a 1,000-event feed page
 * took 150–260 ms instead of 12–18 ms, every update probing every partition for its id.
 *
 * - Primary key (id, paid_at): PostgreSQL requires the partition key in every unique index.
 *   An order keeps the payment time it was first written with (order_ids.paid_at): the
 *   order import writes every later event to that row, whatever payment time it carries.
 *   Lookups by id alone (enforcement, fulfilment, after-sales) use its leading column, one
 *   probe per partition.
 *   The order id stays unique across months through `order_ids` (one row per order ever
 *   inserted, filled by a statement trigger whatever the writer): a second row for an id, in
 *   any month, fails on `order_ids_pkey`.
 * - A partner order maps to one order through `order_partner_ids` (primary key named
 *   `orders_partner_order`, the name the unique index had), written by the order import;
 *   `orders_by_partner_order` finds the order in each partition.
 * - `orders_default` catches an order paid in a month with no partition yet; creating that
 *   partition later moves its rows in (ensure_order_partition). Partitions are made ahead
 *   by the monthly `order-partitions` schedule: from 12 months back to 3 ahead at migration.
 * - Existing orders are copied in one pass (a maintenance window on a large table: the
 *   copy holds the old table's lock for its duration).
 */
const INDEXES = [
  'CREATE INDEX orders_unsettled ON orders (merchant_id, receipt_confirmed_at) WHERE settled_period IS NULL',
  'CREATE INDEX orders_refunds_to_carry ON orders (merchant_id, refunded_at) WHERE settled_period IS NOT NULL AND refund_settled_period IS NULL AND refunded_at IS NOT NULL',
  'CREATE INDEX orders_by_partner_order ON orders (partner_platform, partner_order_id) WHERE partner_order_id IS NOT NULL',
  'CREATE INDEX orders_ship_by ON orders (ship_by, id) WHERE ship_by IS NOT NULL',
  "CREATE INDEX orders_in_transit ON orders ((COALESCE(tracking_updated_at, shipped_at)), id) WHERE shipped_at IS NOT NULL AND status = 'paid' AND logistics_exception IS NULL AND silence_recorded IS NULL",
  'CREATE INDEX orders_exception_to_record ON orders (id) WHERE logistics_exception IS NOT NULL AND logistics_exception IS DISTINCT FROM exception_recorded',
  'CREATE INDEX orders_by_shop ON orders (shop_id, id)',
];

const OLD_INDEXES = ['orders_unsettled', 'orders_refunds_to_carry', 'orders_partner_order', 'orders_ship_by', 'orders_in_transit', 'orders_exception_to_record', 'orders_by_shop'];

/**
 * `month` is any day of a month; its partition holds the orders paid in it, Shanghai time.
 * The functions run as the schema owner (SECURITY DEFINER): the worker's role owns no table
 * and may not create one, yet the monthly `order-partitions` process creates each month's
 * table and attaches it to `orders`, which only the owner of `orders` may do. Their search
 * path is fixed, as a SECURITY DEFINER function's must be, so a caller's own schema cannot
 * put a table or function of its choosing in their way.
 */
const ENSURE_PARTITION = `
CREATE OR REPLACE FUNCTION ensure_order_partition(month date) RETURNS boolean LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET DateStyle = 'ISO, YMD' SET TimeZone = 'UTC' AS $$
DECLARE
  first_day date := date_trunc('month', month)::date;
  part text := 'orders_' || to_char(first_day, 'YYYY_MM');
  lo timestamptz := first_day::timestamp AT TIME ZONE 'Asia/Shanghai';
  hi timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai';
BEGIN
  IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  -- Built beside the table, filled from the default partition, then attached: attaching a
  -- range the default partition still holds rows of is refused, and nothing is lost.
  EXECUTE format('CREATE TABLE public.%I (LIKE public.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format('WITH moved AS (DELETE FROM public.orders_default WHERE paid_at >= %L AND paid_at < %L RETURNING *) INSERT INTO public.%I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE public.orders ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  RETURN true;
END $$`;

const ENSURE_PARTITIONS = `
CREATE OR REPLACE FUNCTION ensure_order_partitions(from_month date, through_month date) RETURNS text[] LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET DateStyle = 'ISO, YMD' SET TimeZone = 'UTC' AS $$
DECLARE
  m date := date_trunc('month', from_month)::date;
  created text[] := '{}';
BEGIN
  -- Only the schedule and the archive call this (with a few months); a span of years is a mistake.
  IF through_month > from_month + interval '36 months' THEN
    RAISE EXCEPTION 'ensure_order_partitions: % to % is more than 36 months', from_month, through_month;
  END IF;
  WHILE m <= through_month LOOP
    IF ensure_order_partition(m) THEN
      created := created || to_char(m, 'YYYY-MM');
    END IF;
    m := (m + interval '1 month')::date;
  END LOOP;
  RETURN created;
END $$`;

// Its search path is fixed so no caller's temporary table can stand in for order_ids.
const REGISTER_IDS = `
CREATE OR REPLACE FUNCTION register_order_ids() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO public.order_ids (id, paid_at) SELECT id, paid_at FROM inserted_orders;
  RETURN NULL;
END $$`;

const PARTITION_FUNCTIONS = ['ensure_order_partition(date)', 'ensure_order_partitions(date, date)'];

// An order's payment time is its month and, in order_ids, the row every later event writes
// to: it never changes. Only an UPDATE that sets paid_at runs this (settlement's marks do not).
const KEEP_PAID_AT = `
CREATE OR REPLACE FUNCTION keep_order_paid_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.paid_at IS DISTINCT FROM OLD.paid_at THEN
    RAISE EXCEPTION 'order %: its payment time is fixed when it is written', OLD.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_paid_at_fixed';
  END IF;
  RETURN NEW;
END $$`;

export async function up(db: Knex): Promise<void> {
  for (const name of OLD_INDEXES) await db.raw(`DROP INDEX IF EXISTS ${name}`);
  await db.raw('ALTER TABLE orders RENAME TO orders_unpartitioned');
  await db.raw('ALTER TABLE orders_unpartitioned RENAME CONSTRAINT orders_pkey TO orders_unpartitioned_pkey');
  await db.raw('CREATE TABLE orders (LIKE orders_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (paid_at)');
  await db.raw('ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id, paid_at)');
  await db.raw('CREATE TABLE orders_default PARTITION OF orders DEFAULT');
  for (const sql of INDEXES) await db.raw(sql);
  await db.raw(ENSURE_PARTITION);
  await db.raw(ENSURE_PARTITIONS);
  // The owner's functions are called by the app's role only (db/roles.ts grants it EXECUTE).
  for (const fn of PARTITION_FUNCTIONS) await db.raw(`REVOKE EXECUTE ON FUNCTION ${fn} FROM PUBLIC`);
  await db.raw(`
    SELECT ensure_order_partitions(
      LEAST(
        (SELECT min(paid_at AT TIME ZONE 'Asia/Shanghai')::date FROM orders_unpartitioned),
        ((now() AT TIME ZONE 'Asia/Shanghai') - interval '12 months')::date),
      ((now() AT TIME ZONE 'Asia/Shanghai') + interval '3 months')::date)`);
  await db.raw('INSERT INTO orders SELECT * FROM orders_unpartitioned');

  await db.schema.createTable('order_ids', (t) => {
    t.text('id').primary();
    t.timestamp('paid_at', { useTz: true }).notNullable();
  });
  await db.raw('INSERT INTO order_ids (id, paid_at) SELECT id, paid_at FROM orders_unpartitioned');
  await db.raw(REGISTER_IDS);
  await db.raw('CREATE TRIGGER orders_register_ids AFTER INSERT ON orders REFERENCING NEW TABLE AS inserted_orders FOR EACH STATEMENT EXECUTE FUNCTION register_order_ids()');
  await db.raw(KEEP_PAID_AT);
  await db.raw('CREATE TRIGGER orders_paid_at_fixed BEFORE UPDATE OF paid_at ON orders FOR EACH ROW EXECUTE FUNCTION keep_order_paid_at()');

  await db.schema.createTable('order_partner_ids', (t) => {
    t.text('partner_platform').notNullable();
    t.text('partner_order_id').notNullable();
    t.text('order_id').notNullable();
    t.primary(['partner_platform', 'partner_order_id'], { constraintName: 'orders_partner_order' });
  });
  await db.raw('CREATE INDEX order_partner_ids_by_order ON order_partner_ids (order_id)');
  await db.raw(
    'INSERT INTO order_partner_ids (partner_platform, partner_order_id, order_id) SELECT partner_platform, partner_order_id, id FROM orders_unpartitioned WHERE partner_order_id IS NOT NULL',
  );
  await db.raw('DROP TABLE orders_unpartitioned');
  await db.raw('ANALYZE orders');
}

export async function down(db: Knex): Promise<void> {
  // An archived month is not in `orders`: going down now would leave it out for good.
  const { rows } = (await db.raw("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'orders_archive'")) as { rows: Array<{ n: number }> };
  if (rows[0]!.n > 0) throw new Error('030_orders_by_month down: orders_archive holds archived months; restore them first (npm run archive-orders -- --restore)');
  await db.raw('CREATE TABLE orders_flat (LIKE orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)');
  await db.raw('INSERT INTO orders_flat SELECT * FROM orders');
  await db.raw('DROP TABLE orders CASCADE');
  await db.raw('DROP TABLE IF EXISTS order_partner_ids');
  await db.raw('DROP TABLE IF EXISTS order_ids');
  await db.raw('DROP FUNCTION IF EXISTS register_order_ids()');
  await db.raw('DROP FUNCTION IF EXISTS keep_order_paid_at()');
  await db.raw('DROP FUNCTION IF EXISTS ensure_order_partitions(date, date)');
  await db.raw('DROP FUNCTION IF EXISTS ensure_order_partition(date)');
  await db.raw('ALTER TABLE orders_flat RENAME TO orders');
  await db.raw('ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id)');
  for (const sql of INDEXES.filter((s) => !s.includes('orders_by_partner_order'))) await db.raw(sql);
  await db.raw('CREATE UNIQUE INDEX orders_partner_order ON orders (partner_platform, partner_order_id) WHERE partner_order_id IS NOT NULL');
}
