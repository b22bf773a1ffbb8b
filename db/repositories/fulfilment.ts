import type { Knex } from 'knex';
import type { LogisticsExceptionKind } from '../../domain/fulfilment';

/**
 * The fulfilment scan's reads and writes (docs/rules.md §5.4), set-based: each call handles
 * one keyset page of orders in one or two statements, and every row it writes has the
 * business key as its key, so a repeated or concurrent call adds nothing twice.
 */

/** Where a keyset pass over orders by (ship_by, id) or (tracking instant, id) stopped. */
export interface OrderPosition {
  at: string;
  orderId: string;
}

export interface DuePageResult {
  /** Orders whose deadline the page passed (refunded-before-deadline ones included, not counted due). */
  orders: number;
  due: number;
  late: number;
  /** False once the watermark has reached `upTo`. */
  more: boolean;
}

const DUE_CURSOR = 'due';
const WARN_CURSOR = 'warn';

/** The named watermark, created at minus infinity, locked for the caller's transaction. */
async function lockCursor(trx: Knex.Transaction, name: string): Promise<OrderPosition> {
  await trx('fulfilment_cursors').insert({ name, ship_by: '-infinity', order_id: '' }).onConflict('name').ignore();
  const cursor = await trx('fulfilment_cursors').where({ name }).forUpdate().first<{ ship_by: Date | string; order_id: string }>('ship_by', 'order_id');
  // node-postgres reads -infinity as the string '-infinity', a real instant as a Date.
  return { at: cursor.ship_by instanceof Date ? cursor.ship_by.toISOString() : String(cursor.ship_by), orderId: cursor.order_id };
}

// The Shanghai date of an instant: UTC+8 all year (domain/shanghai-time.ts), so no time-zone database.
const SHANGHAI_DAY = (column: string) => `((${column} AT TIME ZONE 'UTC') + interval '8 hours')::date`;

/*
 * One page of orders whose deadline the watermark passes, judged once and for good:
 * - not due: refunded by the deadline without having shipped (nothing left to ship);
 * - late: not shipped by the deadline, or shipped after it (isLate in domain/fulfilment.ts);
 *   a receipt counts as proof of shipment for an order the feed gave no shipping time;
 * - counted on the Shanghai date of the deadline (lateDay).
 */
const DUE_PAGE_SQL = `
WITH page AS (
  SELECT id, merchant_id, shop_id, ship_by, refunded_at, COALESCE(shipped_at, receipt_confirmed_at) AS sent_at
    FROM orders
   WHERE ship_by IS NOT NULL AND (ship_by, id) > (CAST(:afterAt AS timestamptz), :afterId) AND ship_by <= CAST(:upTo AS timestamptz)
   ORDER BY ship_by, id
   LIMIT :limit
), judged AS (
  SELECT page.*, ${SHANGHAI_DAY('ship_by')} AS day,
         NOT (sent_at IS NULL AND refunded_at IS NOT NULL AND refunded_at <= ship_by) AS due,
         (sent_at IS NULL OR sent_at > ship_by) AS late_or_cancelled
    FROM page
), late AS (
  INSERT INTO late_shipments (order_id, merchant_id, shop_id, day, ship_by, shipped_at)
  SELECT id, merchant_id, shop_id, day, ship_by, sent_at FROM judged WHERE due AND late_or_cancelled
  ON CONFLICT (order_id) DO NOTHING
  RETURNING order_id
), days AS (
  INSERT INTO shipping_days AS d (shop_id, day, merchant_id, due, late)
  SELECT shop_id, day, MIN(merchant_id), COUNT(*) FILTER (WHERE due), COUNT(*) FILTER (WHERE due AND late_or_cancelled)
    FROM judged GROUP BY shop_id, day HAVING COUNT(*) FILTER (WHERE due) > 0
  ON CONFLICT (shop_id, day) DO UPDATE SET due = d.due + excluded.due, late = d.late + excluded.late
  RETURNING 1
)
SELECT (SELECT COUNT(*) FROM judged)::int AS orders,
       (SELECT COUNT(*) FILTER (WHERE due) FROM judged)::int AS due,
       (SELECT COUNT(*) FILTER (WHERE due AND late_or_cancelled) FROM judged)::int AS late,
       (SELECT COUNT(*) FROM days)::int AS days,
       (SELECT ship_by FROM judged ORDER BY ship_by DESC, id DESC LIMIT 1) AS last_at,
       (SELECT id FROM judged ORDER BY ship_by DESC, id DESC LIMIT 1) AS last_id`;

export interface WarningToSend {
  order_id: string;
  merchant_id: string;
  shop_id: string;
  ship_by: Date;
}

export interface ExceptionCandidate {
  id: string;
  merchant_id: string;
  shop_id: string;
  amount_fen: number;
  kind: LogisticsExceptionKind;
  at: Date;
}

export interface PendingCompensation {
  order_id: string;
  kind: LogisticsExceptionKind;
  shop_id: string;
  compensation_fen: number;
}


/**
 * Each exception's compensation is the rule's amount, but never more than what is left of the
 * order after its earlier compensations (a refused one paid nothing, so it takes nothing): a
 * parcel silent, then lost, then damaged never pays the buyer more than the order. With
 * nothing left the exception is still recorded, as `covered`. A page holds one row per order
 * (each pass reads an order once), so the sum read here is never stale within the statement.
 */
const RECORD_EXCEPTIONS_SQL = `
INSERT INTO logistics_exceptions (order_id, kind, merchant_id, shop_id, order_amount_fen, compensation_fen, status)
SELECT r.order_id, r.kind, r.merchant_id, r.shop_id, r.amount_fen, c.fen, CASE WHEN c.fen = 0 THEN 'covered' ELSE 'pending' END
  FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(order_id text, kind text, merchant_id text, shop_id text, amount_fen bigint, rule_fen bigint)
  CROSS JOIN LATERAL (
    SELECT GREATEST(0, LEAST(r.rule_fen, r.amount_fen - COALESCE(SUM(e.compensation_fen), 0)))::bigint AS fen
      FROM logistics_exceptions e
     WHERE e.order_id = r.order_id AND e.status <> 'refused'
  ) c
ON CONFLICT (order_id, kind) DO NOTHING
RETURNING order_id`;

export function createFulfilmentRepository(db: Knex) {
  return {
    /**
     * Moves the due watermark over one page of deadlines up to `upTo`, in one transaction with
     * the late records and day counts it writes: each order is judged exactly once, and two
     * scans take turns on the cursor row.
     */
    async recordDuePage(upTo: Date, limit: number): Promise<DuePageResult> {
      return db.transaction(async (trx) => {
        const cursor = await lockCursor(trx, DUE_CURSOR);
        const { rows } = (await trx.raw(DUE_PAGE_SQL, { afterAt: cursor.at, afterId: cursor.orderId, upTo: upTo.toISOString(), limit })) as {
          rows: Array<{ orders: number; due: number; late: number; last_at: Date | null; last_id: string | null }>;
        };
        const page = rows[0]!;
        if (page.last_at !== null && page.last_id !== null) {
          await trx('fulfilment_cursors').where({ name: DUE_CURSOR }).update({ ship_by: page.last_at, order_id: page.last_id, updated_at: trx.fn.now() });
        }
        return { orders: page.orders, due: page.due, late: page.late, more: page.orders === limit };
      });
    },

    /**
     * Late records of orders that were unshipped when judged, once the feed says more: shipped
     * since, the shipment time is filled in; refunded without shipping, the record is closed
     * (either way it leaves late_shipments_unshipped, so later runs do not read it again). And
     * if what the feed now says happened by the deadline (a shipment, or a refund of an order
     * never shipped), the import was behind when the watermark passed: the late record is
     * removed and the day's counts corrected, so a lag longer than the grace costs no shop.
     */
    async fillLateShipments(): Promise<{ shipped: number; corrected: number }> {
      const { rows } = (await db.raw(`
        WITH seen AS (
          SELECT l.order_id, l.shop_id, l.day, l.ship_by, COALESCE(o.shipped_at, o.receipt_confirmed_at) AS sent_at, o.refunded_at
            FROM late_shipments l JOIN orders o ON o.id = l.order_id
           WHERE l.shipped_at IS NULL AND l.closed_at IS NULL
             AND (COALESCE(o.shipped_at, o.receipt_confirmed_at) IS NOT NULL OR o.status = 'refunded')
        ), in_time AS (
          SELECT *, sent_at IS NULL AS not_due FROM seen
           WHERE sent_at <= ship_by OR (sent_at IS NULL AND refunded_at <= ship_by)
        ), dropped AS (
          DELETE FROM late_shipments l USING in_time t WHERE l.order_id = t.order_id RETURNING l.order_id
        ), corrected AS (
          UPDATE shipping_days d SET late = d.late - c.n, due = d.due - c.not_due
            FROM (SELECT shop_id, day, COUNT(*)::int AS n, (COUNT(*) FILTER (WHERE not_due))::int AS not_due FROM in_time GROUP BY shop_id, day) c
           WHERE d.shop_id = c.shop_id AND d.day = c.day
          RETURNING 1
        ), filled AS (
          UPDATE late_shipments l SET shipped_at = s.sent_at, closed_at = CASE WHEN s.sent_at IS NULL THEN now() END
            FROM seen s
           WHERE l.order_id = s.order_id AND NOT EXISTS (SELECT 1 FROM in_time t WHERE t.order_id = s.order_id)
          RETURNING l.shipped_at IS NOT NULL AS shipped
        )
        SELECT (SELECT COUNT(*) FROM filled WHERE shipped)::int AS shipped, (SELECT COUNT(*) FROM dropped)::int AS corrected,
               (SELECT COUNT(*) FROM corrected)::int AS days`)) as { rows: Array<{ shipped: number; corrected: number }> };
      return { shipped: rows[0]!.shipped, corrected: rows[0]!.corrected };
    },

    /**
     * Records a warning for one page of paid, unshipped orders whose deadline falls in
     * (asOf, asOf + lead], behind a watermark over (ship_by, id): each order is read once, so a
     * run every 10 minutes does not read again the hours of orders already warned. The
     * watermark never lags behind `asOf` (an order due by then is past warning).
     */
    async recordWarningsPage(asOf: Date, leadMs: number, limit: number): Promise<{ seen: number; recorded: number; more: boolean }> {
      return db.transaction(async (trx) => {
        let cursor = await lockCursor(trx, WARN_CURSOR);
        if (cursor.at === '-infinity' || Date.parse(cursor.at) < asOf.getTime()) cursor = { at: asOf.toISOString(), orderId: '' };
        const { rows } = (await trx.raw(
          `WITH page AS (
             SELECT id, merchant_id, shop_id, ship_by FROM orders
              WHERE shipped_at IS NULL AND status = 'paid' AND ship_by IS NOT NULL
                AND (ship_by, id) > (CAST(:afterAt AS timestamptz), :afterId)
                AND ship_by > CAST(:asOf AS timestamptz) AND ship_by <= CAST(:until AS timestamptz)
              ORDER BY ship_by, id LIMIT :limit
           ), recorded AS (
             INSERT INTO shipping_warnings (order_id, merchant_id, shop_id, ship_by)
             SELECT id, merchant_id, shop_id, ship_by FROM page
             ON CONFLICT (order_id) DO NOTHING RETURNING 1
           )
           SELECT (SELECT COUNT(*) FROM page)::int AS seen, (SELECT COUNT(*) FROM recorded)::int AS recorded,
                  (SELECT ship_by FROM page ORDER BY ship_by DESC, id DESC LIMIT 1) AS last_at,
                  (SELECT id FROM page ORDER BY ship_by DESC, id DESC LIMIT 1) AS last_id`,
          { asOf: asOf.toISOString(), until: new Date(asOf.getTime() + leadMs).toISOString(), afterAt: cursor.at, afterId: cursor.orderId, limit },
        )) as { rows: Array<{ seen: number; recorded: number; last_at: Date | null; last_id: string | null }> };
        const page = rows[0]!;
        const next = page.last_at !== null && page.last_id !== null ? { ship_by: page.last_at, order_id: page.last_id } : { ship_by: cursor.at, order_id: cursor.orderId };
        await trx('fulfilment_cursors').where({ name: WARN_CURSOR }).update({ ...next, updated_at: trx.fn.now() });
        return { seen: page.seen, recorded: page.recorded, more: page.seen === limit };
      });
    },

    /**
     * Warnings not yet sent, after `afterOrderId`. A warning whose order shipped (or was
     * refunded) before it went out is dropped: there is nothing left to warn about.
     */
    async warningsToSend(afterOrderId: string, limit: number): Promise<WarningToSend[]> {
      await db.raw(
        `DELETE FROM shipping_warnings w USING orders o
          WHERE w.notified_at IS NULL AND w.refused_reason IS NULL AND w.order_id > :afterOrderId AND o.id = w.order_id AND (o.shipped_at IS NOT NULL OR o.status <> 'paid')`,
        { afterOrderId },
      );
      return db('shipping_warnings').whereNull('notified_at').whereNull('refused_reason').andWhere('order_id', '>', afterOrderId).orderBy('order_id').limit(limit).select('order_id', 'merchant_id', 'shop_id', 'ship_by');
    },

    async markWarningSent(orderId: string, notificationId: string, at: Date): Promise<void> {
      await db('shipping_warnings').where({ order_id: orderId }).whereNull('notified_at').update({ notified_at: at, notification_id: notificationId });
    },

    /** A warning the platform refused for good: kept with the reason, and not sent again. */
    async markWarningRefused(orderId: string, reason: string): Promise<void> {
      await db('shipping_warnings').where({ order_id: orderId }).whereNull('notified_at').update({ refused_reason: reason });
    },

    /** Shipped, not received orders whose tracking went silent by `silentBefore`, without a no_tracking exception yet (orders_in_transit). */
    async silentOrders(silentBefore: Date, after: OrderPosition | null, limit: number): Promise<ExceptionCandidate[]> {
      const { rows } = (await db.raw(
        `SELECT o.id, o.merchant_id, o.shop_id, o.amount_fen, 'no_tracking' AS kind, COALESCE(o.tracking_updated_at, o.shipped_at) AS at
           FROM orders o
          WHERE o.shipped_at IS NOT NULL AND o.status = 'paid'
            AND COALESCE(o.tracking_updated_at, o.shipped_at) <= CAST(:silentBefore AS timestamptz)
            AND (COALESCE(o.tracking_updated_at, o.shipped_at), o.id) > (CAST(:afterAt AS timestamptz), :afterId)
            -- The carrier already reported the parcel lost or damaged: that exception compensates it.
            AND o.logistics_exception IS NULL
            AND o.silence_recorded IS NULL
          ORDER BY COALESCE(o.tracking_updated_at, o.shipped_at), o.id
          LIMIT :limit`,
        { silentBefore: silentBefore.toISOString(), afterAt: after?.at ?? '-infinity', afterId: after?.orderId ?? '', limit },
      )) as { rows: ExceptionCandidate[] };
      return rows;
    },

    /** Orders the carrier reported lost or damaged, without that exception recorded yet (orders_exception_to_record). */
    async reportedExceptions(afterOrderId: string, limit: number): Promise<ExceptionCandidate[]> {
      const { rows } = (await db.raw(
        `SELECT o.id, o.merchant_id, o.shop_id, o.amount_fen, o.logistics_exception AS kind, o.shipped_at AS at
           FROM orders o
          WHERE o.logistics_exception IS NOT NULL AND o.logistics_exception IS DISTINCT FROM o.exception_recorded AND o.id > :afterOrderId
          ORDER BY o.id LIMIT :limit`,
        { afterOrderId, limit },
      )) as { rows: ExceptionCandidate[] };
      return rows;
    },

    /**
     * Records exceptions with their compensation (computed by the caller); an exception already
     * recorded keeps its row. In the same transaction each order is marked as recorded, which
     * takes it out of the index its pass reads.
     */
    async recordExceptions(rows: Array<ExceptionCandidate & { compensationFen: number }>): Promise<number> {
      if (rows.length === 0) return 0;
      return db.transaction(async (trx) => {
        const { rows: inserted } = (await trx.raw(RECORD_EXCEPTIONS_SQL, {
          rows: JSON.stringify(rows.map((r) => ({ order_id: r.id, kind: r.kind, merchant_id: r.merchant_id, shop_id: r.shop_id, amount_fen: r.amount_fen, rule_fen: r.compensationFen }))),
        })) as { rows: Array<{ order_id: string }> };
        const silent = rows.filter((r) => r.kind === 'no_tracking').map((r) => r.id);
        if (silent.length > 0) await trx('orders').whereIn('id', silent).update({ silence_recorded: true });
        const reported = rows.filter((r) => r.kind !== 'no_tracking');
        if (reported.length > 0) {
          // Only if the feed still reports that kind: a kind changed since stays to be recorded.
          await trx.raw(
            `UPDATE orders o SET exception_recorded = r.kind
               FROM unnest(CAST(:ids AS text[]), CAST(:kinds AS text[])) AS r(id, kind)
              WHERE o.id = r.id AND o.logistics_exception = r.kind`,
            { ids: reported.map((r) => r.id), kinds: reported.map((r) => r.kind) },
          );
        }
        return inserted.length;
      });
    },

    async pendingCompensations(after: { orderId: string; kind: string } | null, limit: number): Promise<PendingCompensation[]> {
      const q = db('logistics_exceptions').where({ status: 'pending' }).orderBy(['order_id', 'kind']).limit(limit).select('order_id', 'kind', 'shop_id', 'compensation_fen');
      if (after) q.andWhereRaw('(order_id, kind) > (?, ?)', [after.orderId, after.kind]);
      return q;
    },

    async settleCompensation(orderId: string, kind: string, outcome: { paid: string } | { refused: string }, at: Date): Promise<void> {
      const update = 'paid' in outcome ? { status: 'paid', compensation_id: outcome.paid } : { status: 'refused', refused_reason: outcome.refused };
      await db('logistics_exceptions').where({ order_id: orderId, kind, status: 'pending' }).update({ ...update, settled_at: at });
    },
  };
}

export type FulfilmentRepository = ReturnType<typeof createFulfilmentRepository>;
