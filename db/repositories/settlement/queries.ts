import type { Knex } from 'knex';
import { FEE_OF, CARRIES_INTO_PERIOD, NOT_SETTLED_FOR, RATES_CTE, RATE_IN_FORCE_ON, REFUND_LINE, SALE_LINE, SETTLED_FOR, SHANGHAI_DATE } from './lines';
import { assertPeriod, positiveLimit, storedTotals, toStatement, type SettlementTotals, type Statement, type StatementRow } from './records';

/** Reading settlement: who is left to settle, the statements as stored, a period's totals. */

/**
 * The lineNetFen of the merchant's lines settled in `period` and refunded on a statement
 * since: while the period's forfeiture stood, those refunds took nothing back (the lines
 * were never paid), so an upheld appeal must not pay their commission back either
 * (domain/settlement.ts forfeitureRepaidFen). Priced like settleRangeSql.
 */
export async function forfeitedLinesRefundedFen(q: Knex, merchantId: string, period: string): Promise<number> {
  const receiptDate = SHANGHAI_DATE('o.receipt_confirmed_at');
  const { rows } = (await q.raw(
    `WITH ${RATES_CTE}
     SELECT COALESCE(SUM(o.amount_fen - ${FEE_OF('o.amount_fen', 'r.union_fee_bp')} - ${FEE_OF('o.amount_fen', 'r.channel_share_bp')}), 0)::bigint AS fen
       FROM orders o
       JOIN rates r ON r.category = o.category AND ${RATE_IN_FORCE_ON(receiptDate)}
      WHERE o.merchant_id = ? AND o.settled_period = ? AND o.refund_settled_period IS NOT NULL`,
    [merchantId, period],
  )) as { rows: Array<{ fen: number | string }> };
  return Number(rows[0]?.fen ?? 0);
}

export function createSettlementQueries(db: Knex) {
  return {
    /**
     * Merchants with something to settle for the period, ordered by id, after the cursor
     * (exclusive; '' starts at the beginning): unsettled receipt-confirmed orders, refunds
     * of settled orders not yet on a statement, or a balance carried by their latest
     * statement. Merchants already settled for this period (or a later one) are left out.
     * `upTo` (inclusive) ends a lane's share of the merchant ids; null: no end.
     */
    async merchantsToSettle(period: string, afterMerchantId: string, limit: number, upTo: string | null = null): Promise<string[]> {
      assertPeriod(period);
      const upToOf = (column: string) => (upTo === null ? '' : `AND ${column} <= :upTo`);
      // Each branch stops after `limit` merchants in index order; the union of three such
      // pages holds the first `limit` merchants of the whole set. Unsettled orders are many
      // per merchant, so that branch walks from merchant to merchant through the index (one
      // probe each) instead of reading every order of the page, and asks once per merchant
      // whether it is settled already: as a join, that check would run once per order.
      const { rows } = (await db.raw(
        `
        WITH RECURSIVE walk (merchant_id, settled, found) AS (
          SELECT m.merchant_id, ${SETTLED_FOR('m.merchant_id')}, 0
            FROM (SELECT min(o.merchant_id) AS merchant_id FROM orders o WHERE ${SALE_LINE('o')} AND o.merchant_id > :after ${upToOf('o.merchant_id')}) m
          UNION ALL
          SELECT m.merchant_id, ${SETTLED_FOR('m.merchant_id')}, w.found + CASE WHEN w.settled THEN 0 ELSE 1 END
            FROM walk w
           CROSS JOIN LATERAL (
             SELECT min(o.merchant_id) AS merchant_id FROM orders o WHERE ${SALE_LINE('o')} AND o.merchant_id > w.merchant_id ${upToOf('o.merchant_id')}
           ) m
           WHERE w.merchant_id IS NOT NULL AND w.found + CASE WHEN w.settled THEN 0 ELSE 1 END < :limit
        ),
        unsettled AS (
          SELECT merchant_id FROM walk WHERE merchant_id IS NOT NULL AND NOT settled
        )
        SELECT merchant_id FROM (
          SELECT merchant_id FROM unsettled
          UNION
          (SELECT DISTINCT o.merchant_id FROM orders o
            WHERE ${REFUND_LINE('o')} AND o.merchant_id > :after ${upToOf('o.merchant_id')} AND ${NOT_SETTLED_FOR('o')}
            ORDER BY o.merchant_id LIMIT :limit)
          UNION
          (SELECT s.merchant_id FROM statements s
            WHERE ${CARRIES_INTO_PERIOD('s')} AND s.merchant_id > :after ${upToOf('s.merchant_id')}
            ORDER BY s.merchant_id LIMIT :limit)
        ) m
        ORDER BY merchant_id
        LIMIT :limit`,
        { period, monthStart: `${period}-01`, after: afterMerchantId, limit: positiveLimit(limit), ...(upTo === null ? {} : { upTo }) },
      )) as { rows: Array<{ merchant_id: string }> };
      return rows.map((r) => r.merchant_id);
    },

    /**
     * Where the period's merchant ids split into at most `lanes` lanes of about as many
     * merchants still to settle each, and at least `perLane` of them (a lane shorter than a
     * range would cost its fixed overhead for nothing): the inclusive upper ends of every
     * lane but the last, which is open. The merchants are those merchantsToSettle walks:
     * unsettled sale lines (walked merchant by merchant through the index), refunds not yet
     * taken back, carried balances. Merchants' statements are independent of one another,
     * so disjoint lanes can be settled at once.
     */
    async laneBounds(period: string, lanes: number, perLane: number): Promise<{ merchants: number; bounds: string[] }> {
      assertPeriod(period);
      const { rows } = (await db.raw(
        `
        WITH RECURSIVE walk (merchant_id) AS (
          SELECT min(o.merchant_id) FROM orders o WHERE ${SALE_LINE('o')}
          UNION ALL
          SELECT (SELECT min(o.merchant_id) FROM orders o WHERE ${SALE_LINE('o')} AND o.merchant_id > w.merchant_id)
            FROM walk w
           WHERE w.merchant_id IS NOT NULL
        ),
        candidates AS (
          SELECT merchant_id FROM walk WHERE merchant_id IS NOT NULL
          UNION
          SELECT o.merchant_id FROM orders o WHERE ${REFUND_LINE('o')}
          UNION
          SELECT s.merchant_id FROM statements s WHERE ${CARRIES_INTO_PERIOD('s')}
        ),
        todo AS (
          SELECT c.merchant_id, row_number() OVER (ORDER BY c.merchant_id) AS n
            FROM candidates c
           WHERE ${NOT_SETTLED_FOR('c')}
        ),
        split AS (
          SELECT count(*)::int AS merchants,
                 GREATEST(1, LEAST(:lanes, ceil(count(*)::numeric / :perLane)))::int AS lanes
            FROM todo
        )
        SELECT s.merchants,
               ARRAY(SELECT t.merchant_id FROM todo t
                      WHERE t.n IN (SELECT ceil(k * s.merchants::numeric / s.lanes) FROM generate_series(1, s.lanes - 1) k)
                      ORDER BY t.n) AS bounds
          FROM split s`,
        { period, monthStart: `${period}-01`, lanes: positiveLimit(lanes), perLane: positiveLimit(perLane) },
      )) as { rows: Array<{ merchants: number; bounds: string[] }> };
      return { merchants: rows[0]!.merchants, bounds: rows[0]!.bounds };
    },

    /** The merchant's statements, newest period first. */
    async statementsOf(merchantId: string): Promise<Statement[]> {
      const rows = await db<StatementRow>('statements').where({ merchant_id: merchantId }).orderBy('period', 'desc');
      return rows.map(toStatement);
    },

    async statement(merchantId: string, period: string): Promise<Statement | undefined> {
      const row = await db<StatementRow>('statements').where({ merchant_id: merchantId, period }).first();
      return row ? toStatement(row) : undefined;
    },

    /**
     * The period's totals as its statements stand (monthly and final alike): whatever ran,
     * re-ran or was retried, the figures are the stored ones, never a count one run kept.
     */
    async periodTotals(period: string): Promise<SettlementTotals> {
      assertPeriod(period);
      return storedTotals(db, period);
    },
  };
}

export type SettlementQueries = ReturnType<typeof createSettlementQueries>;
