import type { Knex } from 'knex';
import { shipDeadline } from '../../domain/fulfilment';
import { orderFeedEventSchema } from '../../domain/order-feed';
import type { OrderFeedEvent } from '../../platform/types';

/**
 * The import of the platform's order feed into `orders`, one page per transaction:
 * - the feed's cursor row is locked first, so two importers of the same feed take turns;
 * - events at or below the cursor were imported by an earlier (or concurrent) call and are
 *   skipped, so a retried or repeated page changes nothing: each event takes effect once;
 * - the rest go in with one INSERT … SELECT … ON CONFLICT, set-based, and an order is only
 *   overwritten by an event with a higher seq than the one that wrote it;
 * - the cursor moves to the page's end in the same transaction as its orders.
 * An import writes the platform's facts (status and times) only: an order's amount,
 * category and shop are fixed at payment, and what settlement marked on it
 * (settled_period, refund_settled_period) is never touched, so a refund of a settled
 * order becomes a refund line of the next statement.
 */

export interface FeedPage {
  /** The cursor the page was read after. */
  after: number;
  events: OrderFeedEvent[];
  lastSeq: number;
}

export interface ImportPageResult {
  inserted: number;
  updated: number;
  /** Events past the cursor that changed nothing: a newer state was already there. */
  unchanged: number;
  /** Events at or below the cursor: already imported. */
  skipped: number;
  /** The cursor after this page. */
  lastSeq: number;
}

/** The platform sent an event we cannot store; named, never silently dropped. */
export class OrderFeedInvalidError extends Error {
  constructor(message: string) {
    super(`order feed: ${message}`);
    this.name = 'OrderFeedInvalidError';
  }
}

/** The page starts after events the cursor has not reached: importing it would lose them. */
export class OrderFeedGapError extends Error {
  constructor(feed: string, cursor: number, after: number) {
    super(`order feed ${feed}: cursor at ${cursor} but the page starts after ${after}; read again from the cursor`);
    this.name = 'OrderFeedGapError';
  }
}

interface OrderRow {
  seq: number;
  id: string;
  merchant_id: string;
  shop_id: string;
  category: string;
  amount_fen: number;
  status: string;
  paid_at: string;
  receipt_confirmed_at: string | null;
  refunded_at: string | null;
  partner_platform: string | null;
  partner_order_id: string | null;
  presale_promised_at: string | null;
  ship_by: string;
  shipped_at: string | null;
  tracking_number: string | null;
  tracking_updated_at: string | null;
  logistics_exception: string | null;
}

const UPSERT_SQL = `
WITH e AS (
  -- An order keeps the payment time it was first written with (order_ids holds it): it is the
  -- partition key and part of the primary key, so a later event, even a microsecond off, must
  -- name the same row. order_ids also tells new orders from known ones (its snapshot: the
  -- trigger registers new ones after this statement; a partitioned table cannot return xmax).
  SELECT x.*, COALESCE(r.paid_at, x.paid_at) AS kept_paid_at, r.id IS NOT NULL AS known
    FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS x(
           seq bigint, id text, merchant_id text, shop_id text, category text, amount_fen bigint, status text,
           paid_at timestamptz, receipt_confirmed_at timestamptz, refunded_at timestamptz,
           partner_platform text, partner_order_id text, presale_promised_at timestamptz, ship_by timestamptz,
           shipped_at timestamptz, tracking_number text, tracking_updated_at timestamptz, logistics_exception text)
    LEFT JOIN order_ids r ON r.id = x.id
),
written AS (
  INSERT INTO orders AS o (id, merchant_id, shop_id, category, amount_fen, status, paid_at, receipt_confirmed_at, refunded_at, feed_seq,
                           partner_platform, partner_order_id, presale_promised_at, ship_by, shipped_at, tracking_number, tracking_updated_at, logistics_exception)
  SELECT e.id, e.merchant_id, e.shop_id, e.category, e.amount_fen, e.status, e.kept_paid_at, e.receipt_confirmed_at, e.refunded_at, e.seq,
         e.partner_platform, e.partner_order_id, e.presale_promised_at, e.ship_by, e.shipped_at, e.tracking_number, e.tracking_updated_at, e.logistics_exception
    FROM e
  -- A known order whose month was archived has no row to conflict with here: its INSERT is
  -- refused by order_ids (namePageClash), never written twice.
  ON CONFLICT (id, paid_at) DO UPDATE
     SET status = excluded.status,
         receipt_confirmed_at = excluded.receipt_confirmed_at,
         refunded_at = excluded.refunded_at,
         feed_seq = excluded.feed_seq,
         -- Fulfilment facts as the feed's latest state has them, but for the deadline: fixed at the
         -- first import (the promise the buyer paid for), since the scan judges each deadline once
         -- and a moved one would be counted on a second day, or never.
         partner_platform = excluded.partner_platform,
         partner_order_id = excluded.partner_order_id,
         presale_promised_at = excluded.presale_promised_at,
         ship_by = COALESCE(o.ship_by, excluded.ship_by),
         shipped_at = excluded.shipped_at,
         tracking_number = excluded.tracking_number,
         tracking_updated_at = excluded.tracking_updated_at,
         logistics_exception = excluded.logistics_exception
   WHERE o.feed_seq IS NULL OR o.feed_seq < excluded.feed_seq
  RETURNING o.id, o.partner_platform, o.partner_order_id
),
-- A mapping the written order no longer has is released here; the new ones are taken by
-- MAP_SQL after this statement, so a partner order moving between two orders of the page
-- is released before it is taken (within one statement PostgreSQL may run an INSERT first).
unmapped AS (
  DELETE FROM order_partner_ids p USING written w
   WHERE p.order_id = w.id
     AND (w.partner_order_id IS NULL OR p.partner_platform <> w.partner_platform OR p.partner_order_id <> w.partner_order_id)
)
SELECT (COUNT(*) FILTER (WHERE NOT e.known))::int AS inserted, (COUNT(*) FILTER (WHERE e.known))::int AS updated,
       COALESCE(jsonb_agg(jsonb_build_object('id', w.id, 'platform', w.partner_platform, 'partnerOrderId', w.partner_order_id))
                  FILTER (WHERE w.partner_order_id IS NOT NULL), '[]') AS mapped
  FROM written w JOIN e ON e.id = w.id`;

/**
 * A partner order maps to one order across every month: order_partner_ids keeps the mapping
 * of each order the page wrote, and its primary key refuses a second order for a partner
 * order. Taken after the upsert (which released the mappings its orders no longer have), in
 * its transaction.
 */
const MAP_SQL = `
INSERT INTO order_partner_ids (partner_platform, partner_order_id, order_id)
SELECT w.platform, w."partnerOrderId", w.id
  FROM jsonb_to_recordset(CAST(:mapped AS jsonb)) AS w(id text, platform text, "partnerOrderId" text)
 WHERE NOT EXISTS (SELECT 1 FROM order_partner_ids p
                    WHERE p.order_id = w.id AND p.partner_platform = w.platform AND p.partner_order_id = w."partnerOrderId")`;

interface WrittenOrder {
  id: string;
  platform: string | null;
  partnerOrderId: string | null;
}

const isSeq = (n: number) => Number.isSafeInteger(n) && n >= 0;

/**
 * Two clashes the same page would meet on every retry, refused like any invalid event:
 * a partner order already mapped to another Kuaishou order (order_partner_ids), and an
 * order whose month was archived (order_ids still holds it; its partition is detached).
 */
function namePageClash(err: unknown): never {
  const pg = err as { code?: string; constraint?: string };
  if (pg.code === '23505' && pg.constraint === 'orders_partner_order') {
    throw new OrderFeedInvalidError('a partner order in the page is already mapped to another Kuaishou order');
  }
  if (pg.code === '23505' && pg.constraint === 'order_ids_pkey') {
    throw new OrderFeedInvalidError('an order in the page belongs to a month that is archived (orders_archive): restore the month to import it');
  }
  throw err;
}

/** Checks the whole page before any SQL: one bad event fails the page, naming its order. */
export function validatePage(page: FeedPage): OrderRow[] {
  if (!isSeq(page.after) || !isSeq(page.lastSeq) || page.lastSeq < page.after) {
    throw new OrderFeedInvalidError(`page after ${page.after} ends at ${page.lastSeq}`);
  }
  let previous = page.after;
  return page.events.map((raw, i) => {
    const parsed = orderFeedEventSchema.safeParse(raw);
    if (!parsed.success) {
      const orderId = (raw as { order?: { orderId?: unknown } } | undefined)?.order?.orderId;
      const issues = parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ');
      throw new OrderFeedInvalidError(`event ${i} (seq ${String(raw?.seq)}) of order ${JSON.stringify(orderId)} is invalid: ${issues}`);
    }
    const { seq, order } = parsed.data;
    if (seq <= previous || seq > page.lastSeq) {
      throw new OrderFeedInvalidError(`event seq ${seq} of order ${order.orderId} is out of order (after ${previous}, page ends at ${page.lastSeq})`);
    }
    previous = seq;
    return {
      seq,
      id: order.orderId,
      merchant_id: order.merchantId,
      shop_id: order.shopId,
      category: order.category,
      amount_fen: order.amountFen,
      status: order.status,
      paid_at: order.paidAt,
      receipt_confirmed_at: order.receiptConfirmedAt,
      refunded_at: order.refundedAt,
      partner_platform: order.partnerOrder?.platform ?? null,
      partner_order_id: order.partnerOrder?.orderId ?? null,
      presale_promised_at: order.presalePromisedAt ?? null,
      ship_by: shipDeadline(new Date(order.paidAt), order.presalePromisedAt ? new Date(order.presalePromisedAt) : null).toISOString(),
      shipped_at: order.shippedAt ?? null,
      tracking_number: order.trackingNumber ?? null,
      tracking_updated_at: order.trackingUpdatedAt ?? null,
      logistics_exception: order.logisticsException ?? null,
    };
  });
}

export function createOrderFeedRepository(db: Knex) {
  return {
    /** The last seq imported from the feed (0 before the first import). */
    async cursor(feed: string): Promise<number> {
      const row = await db('order_feed_cursors').where({ feed }).first<{ last_seq: number } | undefined>('last_seq');
      return row ? Number(row.last_seq) : 0;
    },

    /** Imports one page read after `page.after`, exactly once whatever retries or concurrent importers do. */
    async importPage(feed: string, page: FeedPage): Promise<ImportPageResult> {
      const rows = validatePage(page);
      return db.transaction(async (trx) => {
        await trx('order_feed_cursors').insert({ feed, last_seq: 0 }).onConflict('feed').ignore();
        const locked = await trx('order_feed_cursors').where({ feed }).forUpdate().first<{ last_seq: number }>('last_seq');
        const cursor = Number(locked.last_seq);
        if (cursor < page.after) throw new OrderFeedGapError(feed, cursor, page.after);

        // One row per order, its latest state: ON CONFLICT may not touch a row twice in one statement.
        const latest = new Map<string, OrderRow>();
        for (const row of rows) if (row.seq > cursor) latest.set(row.id, row);
        const fresh = rows.filter((r) => r.seq > cursor).length;
        let written = { inserted: 0, updated: 0 };
        if (latest.size > 0) {
          const { rows: counts } = (await trx.raw(UPSERT_SQL, { events: JSON.stringify([...latest.values()]) }).catch(namePageClash)) as {
            rows: Array<{ inserted: number; updated: number; mapped: WrittenOrder[] }>;
          };
          const { inserted, updated, mapped } = counts[0]!;
          written = { inserted, updated };
          if (mapped.length > 0) await trx.raw(MAP_SQL, { mapped: JSON.stringify(mapped) }).catch(namePageClash);
        }
        if (page.lastSeq > cursor) {
          await trx('order_feed_cursors').where({ feed }).update({ last_seq: page.lastSeq, updated_at: trx.fn.now() });
        }
        return {
          ...written,
          unchanged: fresh - written.inserted - written.updated,
          skipped: rows.length - fresh,
          lastSeq: Math.max(cursor, page.lastSeq),
        };
      });
    },
  };
}

export type OrderFeedRepository = ReturnType<typeof createOrderFeedRepository>;
