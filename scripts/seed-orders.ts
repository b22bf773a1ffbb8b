import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { loadConfig } from '../config/config';
import { runWhenMain, withMigratedDb } from './support/main';

/**
 * Seeds a month of platform orders for settlement tests and benchmarks, inside the
 * database (INSERT ... SELECT ... FROM generate_series), never row by row from JS:
 *
 *   npx tsx scripts/seed-orders.ts --orders 1000000 --merchants 10000 [--period 2026-10]
 *     [--unrated-share 0.01] [--seed 42] [--database-url postgres://...]
 *
 * Merchants are m-00001.. with shops shop-m-00001..; every merchant gets at least one
 * receipt-confirmed order, the rest go to merchants with a skew (a few sell a lot).
 * Amounts are 10–2000 CNY, most of them small; receipts are spread over the period in
 * Shanghai time; about 3% of orders are refunded and 2% paid but not yet received.
 * With --unrated-share, that share of orders is 'food', a category without a fee rate.
 */

export interface SeedOptions {
  orders: number;
  merchants: number;
  /** 'YYYY-MM', the natural month (Asia/Shanghai) the receipts fall in. */
  period: string;
  /** Share of orders (0–1) in a category without a fee rate. */
  unratedShare?: number;
  /** Same seed, same orders. */
  seed?: number;
  /** Rows per INSERT statement. */
  chunkSize?: number;
  onProgress?: (inserted: number, total: number) => void;
}

export interface SeedResult {
  inserted: number;
  ms: number;
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

// Multipliers that scatter the skewed merchant index over all ids, so the busy merchants
// are not all at the start of the keyset order.
const SCATTER_PRIMES = [7919, 7927, 7933];

export const merchantIdOf = (n: number, merchants: number): string =>
  `m-${String(n).padStart(Math.max(5, String(merchants).length), '0')}`;

const SEED_SQL = `
INSERT INTO orders (id, merchant_id, shop_id, category, amount_fen, status, paid_at, receipt_confirmed_at, refunded_at)
SELECT o.id, o.merchant_id, 'shop-' || o.merchant_id, o.category, o.amount_fen, o.status,
       date_trunc('milliseconds', o.received_at - (1 + 9 * o.r_gap) * interval '1 day'),
       CASE WHEN o.status = 'paid' THEN NULL ELSE o.received_at END,
       CASE WHEN o.status = 'refunded' THEN o.received_at + 7 * o.r_gap * interval '1 day' END
  FROM (
    SELECT 'o-' || :periodKey || '-' || lpad(x.g::text, 9, '0') AS id,
           'm-' || lpad((CASE WHEN x.g <= :merchants THEN x.g
                              ELSE 1 + (floor(:merchants * power(x.r_merchant, 1.5))::bigint * :scatter) % :merchants
                         END)::text, :idWidth, '0') AS merchant_id,
           CASE WHEN x.g > :merchants AND x.r_rated < :unratedShare THEN 'food'
                WHEN x.r_category < 0.45 THEN 'apparel'
                WHEN x.r_category < 0.75 THEN 'beauty'
                ELSE 'digital' END AS category,
           1000 + floor(199000 * power(x.r_amount, 3))::bigint AS amount_fen,
           CASE WHEN x.g <= :merchants THEN 'receipt_confirmed'
                WHEN x.r_status < 0.03 THEN 'refunded'
                WHEN x.r_status < 0.05 THEN 'paid'
                ELSE 'receipt_confirmed' END AS status,
           date_trunc('milliseconds', b.starts + x.r_time * (b.ends - b.starts)) AS received_at,
           x.r_gap
      FROM (
        SELECT g, random() AS r_merchant, random() AS r_rated, random() AS r_category, random() AS r_amount,
               random() AS r_status, random() AS r_time, random() AS r_gap
          FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
      ) x
      CROSS JOIN (
        SELECT CAST(:monthStart AS timestamp) AT TIME ZONE 'Asia/Shanghai' AS starts,
               (CAST(:monthStart AS timestamp) + interval '1 month') AT TIME ZONE 'Asia/Shanghai' AS ends
      ) b
  ) o
 -- An id seeded before is kept as it is, whatever payment time this run drew for it
 -- (order_ids holds every id across the month partitions).
 WHERE NOT EXISTS (SELECT 1 FROM order_ids r WHERE r.id = o.id)
ON CONFLICT (id, paid_at) DO NOTHING`;

/** Inserts the orders in chunks of one statement each, then refreshes the planner's statistics. */
export async function seedOrders(db: Knex, options: SeedOptions): Promise<SeedResult> {
  const { orders, merchants, period } = options;
  const unratedShare = options.unratedShare ?? 0;
  const chunkSize = options.chunkSize ?? 500_000;
  if (!Number.isSafeInteger(orders) || orders < 1) throw new Error(`--orders must be a positive integer, got ${orders}`);
  if (!Number.isSafeInteger(merchants) || merchants < 1 || merchants > orders) {
    throw new Error(`--merchants must be a positive integer no larger than --orders, got ${merchants}`);
  }
  if (!PERIOD.test(period)) throw new Error(`--period must be YYYY-MM, got ${period}`);
  if (!(unratedShare >= 0 && unratedShare <= 1)) throw new Error(`--unrated-share must be between 0 and 1, got ${unratedShare}`);
  const scatter = SCATTER_PRIMES.find((p) => merchants % p !== 0)!;
  const seed = options.seed ?? 42;

  const started = performance.now();
  let inserted = 0;
  for (let first = 1, chunk = 0; first <= orders; first += chunkSize, chunk++) {
    const last = Math.min(orders, first + chunkSize - 1);
    // setseed and the INSERT share a connection only inside a transaction.
    const count = await db.transaction(async (trx) => {
      await trx.raw('SELECT setseed(?)', [(((seed + chunk) % 1000) / 1000) * 2 - 1]);
      const result = (await trx.raw(SEED_SQL, {
        periodKey: period.replace('-', ''),
        monthStart: `${period}-01`,
        merchants,
        scatter,
        idWidth: Math.max(5, String(merchants).length),
        unratedShare,
        first,
        last,
      })) as { rowCount?: number; affectedRows?: number };
      return result.rowCount ?? result.affectedRows ?? 0;
    });
    inserted += count;
    options.onProgress?.(last, orders);
  }
  await db.raw('ANALYZE orders');
  return { inserted, ms: performance.now() - started };
}

/** The natural month before now, in Shanghai time: the one settled on the 20th. */
function previousShanghaiMonth(now = new Date()): string {
  const shanghai = new Date(now.getTime() + 8 * 3_600_000);
  const month = new Date(Date.UTC(shanghai.getUTCFullYear(), shanghai.getUTCMonth() - 1, 1));
  return month.toISOString().slice(0, 7);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '1000000' },
      merchants: { type: 'string', default: '10000' },
      period: { type: 'string' },
      'unrated-share': { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      'chunk-size': { type: 'string', default: '500000' },
      'database-url': { type: 'string' },
    },
  });
  const config = loadConfig();
  const target = { databaseUrl: values['database-url'] ?? config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  await withMigratedDb(target, async (db, described) => {
    const options: SeedOptions = {
      orders: Number(values.orders),
      merchants: Number(values.merchants),
      period: values.period ?? previousShanghaiMonth(),
      unratedShare: Number(values['unrated-share']),
      seed: Number(values.seed),
      chunkSize: Number(values['chunk-size']),
      onProgress: (done, total) => process.stdout.write(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')}\n`),
    };
    console.log(`seeding ${options.orders} orders over ${options.merchants} merchants for ${options.period} into ${described}`);
    const { inserted, ms } = await seedOrders(db, options);
    console.log(`inserted ${inserted} orders in ${(ms / 1000).toFixed(1)} s${inserted < options.orders ? ' (the rest existed already)' : ''}`);
  });
}

runWhenMain(module, main);
