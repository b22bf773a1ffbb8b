import type { Knex } from 'knex';

/**
 * Monthly commission settlement (docs/rules.md §3), set-based: a range of merchants is
 * settled by one INSERT ... SELECT ... GROUP BY and one UPDATE, never one query per order.
 *
 * Rules, as the SQL below applies them:
 * - A period is a natural month in Asia/Shanghai ('YYYY-MM'). Its statement takes every
 *   receipt-confirmed order confirmed before the period's end and not yet settled, so an
 *   order that reached us after its own month was settled is paid next time, not lost.
 * - Fees use the rate of the order's category effective on the Shanghai date of receipt,
 *   and are rounded half-up to the fen per line: (amount_fen * bp + 5000) / 10000.
 * - A settled order refunded before the period's end comes back as a negative line: its
 *   amount minus the fees it was settled with (rates are never edited, only added).
 *   A line whose statement forfeited its commission (a flag of that statement still
 *   standing) comes back at 0: it was never paid.
 * - Carried in is the previous statement's carried_out_fen. A merchant flagged
 *   'forfeit_unsettled' (false advertising) forfeits this period's own net (sales less fees,
 *   when positive), not what it carries in nor refunds of lines settled earlier.
 * - domain/settlement.ts computeStatement is the specification of the figures;
 *   test/db/settlement-rule.property.test.ts checks this SQL against it on random data.
 * - Net at or above both thresholds (union and shop, 100 CNY by default) is paid out;
 *   anything less, and any negative net, carries forward.
 * - A merchant with a line in a category without a rate gets no statement and keeps its
 *   orders unsettled until a rate exists.
 * - The statements primary key makes each (merchant, period) statement exist once; orders
 *   are marked only for statements inserted by the same call, in the same statement.
 * - Periods are settled in order: a merchant with a statement for a later period is skipped,
 *   so a carried balance is never carried twice.
 */

export type StatementStatus = 'payable' | 'carried' | 'paid';
/** 'final': a closing shop's merchant settled at once; it pays any positive net and carries nothing. */
export type StatementKind = 'monthly' | 'final';
export type RunStatus = 'running' | 'completed' | 'failed';
export type PayoutStatus = 'requested' | 'paid';

export interface Thresholds {
  /** Taobao Union's settlement threshold. */
  unionFen: number;
  /** The Kuaishou shop's settlement threshold. */
  shopFen: number;
}

export interface Statement {
  merchantId: string;
  period: string;
  gmvFen: number;
  unionFeeFen: number;
  channelFeeFen: number;
  /** Refunds of orders settled earlier, as a positive number shown as a negative line. */
  refundsFen: number;
  carriedInFen: number;
  forfeitedFen: number;
  netFen: number;
  payoutFen: number;
  carriedOutFen: number;
  /** What a final statement's negative net leaves the merchant owing (always 0 on a monthly one). */
  owedFen: number;
  kind: StatementKind;
  lineCount: number;
  status: StatementStatus;
  payoutId: string | null;
  createdAt: Date;
}

export interface SettlementTotals {
  statements: number;
  lineCount: number;
  gmvFen: number;
  unionFeeFen: number;
  channelFeeFen: number;
  refundsFen: number;
  carriedInFen: number;
  forfeitedFen: number;
  netFen: number;
  payoutFen: number;
  carriedOutFen: number;
  payableCount: number;
}

export interface MissingRate {
  merchantId: string;
  category: string;
}

export interface SettleRangeResult {
  /** Statements inserted by this call (0 when the range was already settled). */
  statements: number;
  /** Orders marked settled plus refunds marked carried by this call. */
  linesMarked: number;
  /** Merchants left without a statement because a line's category has no rate. */
  missingRate: MissingRate[];
  totals: SettlementTotals;
}

export interface SettlementRun {
  period: string;
  status: RunStatus;
  startedAt: Date;
  completedAt: Date | null;
  merchantsTotal: number | null;
  merchantsDone: number;
  failures: unknown[];
  totals: Record<string, unknown>;
  workflowId: string | null;
}

export interface Payout {
  idempotencyKey: string;
  merchantId: string;
  period: string;
  amountFen: number;
  platformPayoutId: string | null;
  status: PayoutStatus;
  createdAt: Date;
  paidAt: Date | null;
}

export class SettlementValidationError extends Error {
  constructor(message: string) {
    super(`settlement: ${message}`);
    this.name = 'SettlementValidationError';
  }
}

export class SettlementRecordNotFoundError extends Error {
  constructor(what: string) {
    super(`settlement: ${what} not found`);
    this.name = 'SettlementRecordNotFoundError';
  }
}

/**
 * Another transaction changed an order of the range while it was being settled; the
 * statements and marks were rolled back together. Retrying settles the range afresh.
 */
export class SettlementConflictError extends Error {
  constructor(
    readonly period: string,
    readonly linesSummed: number,
    readonly linesMarked: number,
  ) {
    super(`settlement: ${linesSummed} lines summed but ${linesMarked} marked for ${period}; rolled back, safe to retry`);
    this.name = 'SettlementConflictError';
  }
}

/** The statement has nothing to pay out (carried, or already handled otherwise). */
export class NothingPayableError extends Error {
  constructor(
    readonly merchantId: string,
    readonly period: string,
  ) {
    super(`settlement: statement ${merchantId} ${period} has no payout`);
    this.name = 'NothingPayableError';
  }
}

/** The business key of a payout (STYLE.md habit 3); payouts.idempotency_key checks the same form. */
export const payoutKey = (merchantId: string, period: string): string => `settle:${merchantId}:${period}`;

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export function assertPeriod(period: string): string {
  if (!PERIOD.test(period)) throw new SettlementValidationError(`period must be YYYY-MM, got ${JSON.stringify(period)}`);
  return period;
}

function thresholdOf(t: Thresholds): number {
  for (const value of [t.unionFen, t.shopFen]) {
    if (!Number.isSafeInteger(value) || value < 0) throw new SettlementValidationError(`thresholds must be whole fen ≥ 0, got ${value}`);
  }
  return Math.max(t.unionFen, t.shopFen);
}

// The first instant after the period, Shanghai time. Bound as 'YYYY-MM-01'.
const PERIOD_END = `((CAST(:monthStart AS date) + interval '1 month') AT TIME ZONE 'Asia/Shanghai')`;
const SHANGHAI_DATE = (column: string) => `(${column} AT TIME ZONE 'Asia/Shanghai')::date`;
/** An order to be paid by the period's statement. */
const SALE_LINE = (o: string) =>
  `${o}.settled_period IS NULL AND ${o}.status = 'receipt_confirmed' AND ${o}.receipt_confirmed_at < ${PERIOD_END}`;
/** A settled order refunded before the period's end, not yet taken back by a statement. */
const REFUND_LINE = (o: string) =>
  `${o}.settled_period IS NOT NULL AND ${o}.refund_settled_period IS NULL AND ${o}.refunded_at IS NOT NULL
   AND ${o}.refunded_at < ${PERIOD_END} AND ${o}.settled_period < :period`;
/** The merchant has a statement for this period or a later one. */
const SETTLED_FOR = (merchantId: string) =>
  `EXISTS (SELECT 1 FROM statements done WHERE done.merchant_id = ${merchantId} AND done.period >= :period)`;
/** No statement for this period or a later one: the merchant is still to be settled. */
const NOT_SETTLED_FOR = (alias: string) =>
  `NOT EXISTS (SELECT 1 FROM statements done WHERE done.merchant_id = ${alias}.merchant_id AND done.period >= :period)`;

/**
 * The settled order's statement forfeited its commission and no upheld appeal has paid the
 * forfeiture back yet: some flag that statement used still stands.
 */
export const FORFEITURE_STANDS = (o: string) =>
  `EXISTS (SELECT 1 FROM merchant_flags ff WHERE ff.merchant_id = ${o}.merchant_id AND ff.flag = 'forfeit_unsettled'
             AND ff.consumed_period = ${o}.settled_period AND ff.restored_at IS NULL
             AND EXISTS (SELECT 1 FROM statements fs WHERE fs.merchant_id = ${o}.merchant_id
                           AND fs.period = ${o}.settled_period AND fs.forfeited_fen > 0))`;

/** A false-advertising flag in force and not yet used by a statement. */
const FORFEIT_FLAG_ACTIVE = `flag = 'forfeit_unsettled' AND since <= now() AND (until IS NULL OR until > now()) AND consumed_period IS NULL`;

const TOTAL_COLUMNS = {
  gmvFen: 'gmv_fen',
  unionFeeFen: 'union_fee_fen',
  channelFeeFen: 'channel_fee_fen',
  refundsFen: 'refunds_fen',
  carriedInFen: 'carried_in_fen',
  forfeitedFen: 'forfeited_fen',
  netFen: 'net_fen',
  payoutFen: 'payout_fen',
  carriedOutFen: 'carried_out_fen',
  lineCount: 'line_count',
} as const;

const totalsJson = Object.entries(TOTAL_COLUMNS)
  .map(([key, column]) => `'${key}', COALESCE(SUM(${column}), 0)`)
  .join(', ');

/**
 * One statement: the lines of the range, priced; the merchants blocked by a missing rate;
 * the sums per merchant with what they carry in and forfeit; the INSERT of the statements;
 * the UPDATEs marking the lines of the inserted statements. Every part of one statement
 * reads the same snapshot, so the UPDATEs find the rows that were summed; a row another
 * transaction changed meanwhile fails the UPDATE's recheck, and the caller rolls back
 * when the count marked differs from the count summed.
 */
function settleRangeSql(rangeOf: (column: string) => string, kind: StatementKind): string {
  // Monthly: the whole net is paid once it reaches the threshold, else carried forward.
  // Final: a positive net is paid whatever its size, a negative one is owed; nothing carries.
  const decided =
    kind === 'monthly'
      ? `CASE WHEN n.net_fen >= :threshold AND n.net_fen > 0 THEN n.net_fen ELSE 0 END AS payout_fen,
         CASE WHEN n.net_fen >= :threshold AND n.net_fen > 0 THEN 0 ELSE n.net_fen END AS carried_out_fen,
         0 AS owed_fen`
      : `GREATEST(n.net_fen, 0) AS payout_fen, 0 AS carried_out_fen, GREATEST(-n.net_fen, 0) AS owed_fen`;
  return `
WITH rates AS (
  SELECT category, effective_from, union_fee_bp, channel_share_bp,
         lead(effective_from) OVER (PARTITION BY category ORDER BY effective_from) AS effective_until
    FROM fee_rates
),
lines AS (
  SELECT o.merchant_id, o.category, o.amount_fen, ${SHANGHAI_DATE('o.receipt_confirmed_at')} AS receipt_date, false AS is_refund,
         false AS was_forfeited
    FROM orders o
   WHERE ${SALE_LINE('o')} AND ${rangeOf('o.merchant_id')}
  UNION ALL
  SELECT o.merchant_id, o.category, o.amount_fen, ${SHANGHAI_DATE('o.receipt_confirmed_at')} AS receipt_date, true AS is_refund,
         ${FORFEITURE_STANDS('o')} AS was_forfeited
    FROM orders o
   WHERE ${REFUND_LINE('o')} AND ${rangeOf('o.merchant_id')}
),
priced AS (
  SELECT l.merchant_id, l.category, l.amount_fen, l.is_refund, l.was_forfeited,
         r.category IS NOT NULL AS rated,
         (l.amount_fen * r.union_fee_bp + 5000) / 10000 AS union_fee_fen,
         (l.amount_fen * r.channel_share_bp + 5000) / 10000 AS channel_fee_fen
    FROM lines l
    LEFT JOIN rates r
      ON r.category = l.category
     AND r.effective_from <= l.receipt_date
     AND (r.effective_until IS NULL OR l.receipt_date < r.effective_until)
),
sums AS (
  SELECT merchant_id,
         COALESCE(SUM(amount_fen) FILTER (WHERE NOT is_refund), 0)::bigint AS gmv_fen,
         COALESCE(SUM(union_fee_fen) FILTER (WHERE NOT is_refund), 0)::bigint AS union_fee_fen,
         COALESCE(SUM(channel_fee_fen) FILTER (WHERE NOT is_refund), 0)::bigint AS channel_fee_fen,
         -- A line whose commission was forfeited was never paid: its refund takes nothing back.
         COALESCE(SUM(amount_fen - union_fee_fen - channel_fee_fen) FILTER (WHERE is_refund AND NOT was_forfeited), 0)::bigint AS refunds_fen,
         COUNT(*)::int AS line_count,
         array_agg(category) FILTER (WHERE NOT rated) AS unrated
    FROM priced p
   GROUP BY p.merchant_id
  -- Once per merchant, not per line: settled merchants have (almost) no lines left anyway.
  HAVING NOT ${SETTLED_FOR('p.merchant_id')}
),
missing AS (
  SELECT DISTINCT merchant_id, unnest(unrated) AS category FROM sums WHERE unrated IS NOT NULL
),
carried AS (
  SELECT s.merchant_id, s.carried_out_fen
    FROM statements s
   WHERE s.period < :period AND s.carried_out_fen <> 0 AND ${rangeOf('s.merchant_id')}
     AND NOT EXISTS (SELECT 1 FROM statements later WHERE later.merchant_id = s.merchant_id AND later.period > s.period)
),
flagged AS (
  SELECT DISTINCT merchant_id FROM merchant_flags
   WHERE ${FORFEIT_FLAG_ACTIVE} AND ${rangeOf('merchant_id')}
),
merchants AS (
  SELECT COALESCE(x.merchant_id, c.merchant_id) AS merchant_id,
         COALESCE(x.gmv_fen, 0) AS gmv_fen,
         COALESCE(x.union_fee_fen, 0) AS union_fee_fen,
         COALESCE(x.channel_fee_fen, 0) AS channel_fee_fen,
         COALESCE(x.refunds_fen, 0) AS refunds_fen,
         COALESCE(c.carried_out_fen, 0) AS carried_in_fen,
         COALESCE(x.line_count, 0) AS line_count,
         x.unrated
    FROM sums x
    FULL JOIN carried c ON c.merchant_id = x.merchant_id
),
figures AS (
  SELECT m.*,
         CASE WHEN f.merchant_id IS NULL THEN 0
              -- This period's own net (domain/settlement.ts computeStatement): refunds of lines
              -- settled earlier were paid out and are still owed back, so they are not netted off.
              ELSE GREATEST(m.gmv_fen - m.union_fee_fen - m.channel_fee_fen, 0) END AS forfeited_fen
    FROM merchants m
    LEFT JOIN flagged f ON f.merchant_id = m.merchant_id
   WHERE m.unrated IS NULL
),
nets AS (
  SELECT f.*, f.gmv_fen - f.union_fee_fen - f.channel_fee_fen - f.refunds_fen + f.carried_in_fen - f.forfeited_fen AS net_fen
    FROM figures f
),
decided AS (
  SELECT n.*, ${decided}
    FROM nets n
),
inserted AS (
  INSERT INTO statements (merchant_id, period, gmv_fen, union_fee_fen, channel_fee_fen, refunds_fen, carried_in_fen,
                          forfeited_fen, net_fen, payout_fen, carried_out_fen, owed_fen, kind, line_count, status)
  SELECT p.merchant_id, :period, p.gmv_fen, p.union_fee_fen, p.channel_fee_fen, p.refunds_fen, p.carried_in_fen,
         p.forfeited_fen, p.net_fen, p.payout_fen, p.carried_out_fen, p.owed_fen, '${kind}', p.line_count,
         CASE WHEN p.payout_fen > 0 THEN 'payable' ELSE 'carried' END
    FROM decided p
  ON CONFLICT (merchant_id, period) DO NOTHING
  RETURNING *
),
sales_marked AS (
  UPDATE orders o SET settled_period = :period
   WHERE o.merchant_id = ANY (ARRAY(SELECT merchant_id FROM inserted)) AND ${SALE_LINE('o')} AND ${rangeOf('o.merchant_id')}
  RETURNING 1
),
-- A flag forfeits what is unsettled when it is raised: the next statement uses it up, and
-- keeps what it forfeited on the flag for an upheld appeal to restore. Several flags used by
-- one statement share one forfeiture: the earliest carries the amount, the others 0, so the
-- flags sum to what was forfeited (db/repositories/violations.ts restoreForfeitFlag hands a
-- share on while another flag of the statement still stands).
flag_shares AS (
  SELECT f.merchant_id, f.since,
         CASE WHEN row_number() OVER (PARTITION BY f.merchant_id ORDER BY f.since, f.case_id NULLS LAST) = 1
              THEN i.forfeited_fen ELSE 0 END AS forfeited_fen
    FROM merchant_flags f
    JOIN inserted i ON i.merchant_id = f.merchant_id
   WHERE ${FORFEIT_FLAG_ACTIVE}
),
flags_used AS (
  UPDATE merchant_flags f SET consumed_period = :period, forfeited_fen = s.forfeited_fen
    FROM flag_shares s
   WHERE f.merchant_id = s.merchant_id AND f.flag = 'forfeit_unsettled' AND f.since = s.since
  RETURNING 1
),
refunds_marked AS (
  UPDATE orders o SET refund_settled_period = :period
   WHERE o.merchant_id = ANY (ARRAY(SELECT merchant_id FROM inserted)) AND ${REFUND_LINE('o')} AND ${rangeOf('o.merchant_id')}
  RETURNING 1
)
SELECT ((SELECT COUNT(*) FROM sales_marked) + (SELECT COUNT(*) FROM refunds_marked))::int AS lines_marked,
       (SELECT COALESCE(json_agg(json_build_object('merchantId', merchant_id, 'category', category)
                                 ORDER BY merchant_id, category), '[]'::json) FROM missing) AS missing_rate,
       (SELECT json_build_object('statements', COUNT(*), 'payableCount', COUNT(*) FILTER (WHERE status = 'payable'), ${totalsJson})
          FROM inserted) AS totals`;
}

interface StatementRow {
  merchant_id: string;
  period: string;
  gmv_fen: number;
  union_fee_fen: number;
  channel_fee_fen: number;
  refunds_fen: number;
  carried_in_fen: number;
  forfeited_fen: number;
  net_fen: number;
  payout_fen: number;
  carried_out_fen: number;
  owed_fen: number;
  kind: StatementKind;
  line_count: number;
  status: StatementStatus;
  payout_id: string | null;
  created_at: Date;
}

interface RunRow {
  period: string;
  status: RunStatus;
  started_at: Date;
  completed_at: Date | null;
  merchants_total: number | null;
  merchants_done: number;
  failures: unknown[];
  totals: Record<string, unknown>;
  workflow_id: string | null;
}

interface PayoutRow {
  idempotency_key: string;
  merchant_id: string;
  period: string;
  amount_fen: number;
  platform_payout_id: string | null;
  status: PayoutStatus;
  created_at: Date;
  paid_at: Date | null;
}

// int8 arrives as a number from both drivers (see connection.ts); Number() also covers
// the sums that come back inside json.
const toStatement = (r: StatementRow): Statement => ({
  merchantId: r.merchant_id,
  period: r.period,
  gmvFen: Number(r.gmv_fen),
  unionFeeFen: Number(r.union_fee_fen),
  channelFeeFen: Number(r.channel_fee_fen),
  refundsFen: Number(r.refunds_fen),
  carriedInFen: Number(r.carried_in_fen),
  forfeitedFen: Number(r.forfeited_fen),
  netFen: Number(r.net_fen),
  payoutFen: Number(r.payout_fen),
  carriedOutFen: Number(r.carried_out_fen),
  owedFen: Number(r.owed_fen),
  kind: r.kind,
  lineCount: r.line_count,
  status: r.status,
  payoutId: r.payout_id,
  createdAt: r.created_at,
});

const toRun = (r: RunRow): SettlementRun => ({
  period: r.period,
  status: r.status,
  startedAt: r.started_at,
  completedAt: r.completed_at,
  merchantsTotal: r.merchants_total,
  merchantsDone: r.merchants_done,
  failures: r.failures,
  totals: r.totals,
  workflowId: r.workflow_id,
});

const toPayout = (r: PayoutRow): Payout => ({
  idempotencyKey: r.idempotency_key,
  merchantId: r.merchant_id,
  period: r.period,
  amountFen: Number(r.amount_fen),
  platformPayoutId: r.platform_payout_id,
  status: r.status,
  createdAt: r.created_at,
  paidAt: r.paid_at,
});

function toTotals(json: Record<string, unknown>): SettlementTotals {
  const keys = ['statements', 'payableCount', ...Object.keys(TOTAL_COLUMNS)] as Array<keyof SettlementTotals>;
  return Object.fromEntries(keys.map((k) => [k, Number(json[k] ?? 0)])) as unknown as SettlementTotals;
}

/** The period's statements summed, in the shape of SettlementTotals (json, as settlement_runs.totals holds it). */
async function storedTotals(q: Knex, period: string): Promise<Record<string, unknown>> {
  const { rows } = (await q.raw(
    `SELECT json_build_object('statements', COUNT(*), 'payableCount', COUNT(*) FILTER (WHERE status = 'payable'), ${totalsJson}) AS totals
       FROM statements WHERE period = ?`,
    [period],
  )) as { rows: Array<{ totals: Record<string, unknown> }> };
  return toTotals(rows[0]!.totals) as unknown as Record<string, unknown>;
}

function positiveLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new SettlementValidationError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/**
 * The commission of the merchant's lines settled in `period` and refunded on a statement
 * since: while the period's forfeiture stood, those refunds took nothing back (the lines
 * were never paid), so an upheld appeal must not pay their commission back either. Priced
 * like settleRangeSql: the rate in force on the Shanghai date of receipt, half-up per line.
 */
export async function forfeitedLinesRefundedFen(q: Knex, merchantId: string, period: string): Promise<number> {
  const { rows } = (await q.raw(
    `WITH rates AS (
       SELECT category, effective_from, union_fee_bp, channel_share_bp,
              lead(effective_from) OVER (PARTITION BY category ORDER BY effective_from) AS effective_until
         FROM fee_rates
     )
     SELECT COALESCE(SUM(o.amount_fen - (o.amount_fen * r.union_fee_bp + 5000) / 10000
                                      - (o.amount_fen * r.channel_share_bp + 5000) / 10000), 0)::bigint AS fen
       FROM orders o
       JOIN rates r
         ON r.category = o.category
        AND r.effective_from <= ${SHANGHAI_DATE('o.receipt_confirmed_at')}
        AND (r.effective_until IS NULL OR ${SHANGHAI_DATE('o.receipt_confirmed_at')} < r.effective_until)
      WHERE o.merchant_id = ? AND o.settled_period = ? AND o.refund_settled_period IS NOT NULL`,
    [merchantId, period],
  )) as { rows: Array<{ fen: number | string }> };
  return Number(rows[0]?.fen ?? 0);
}

export function createSettlementRepository(db: Knex) {
  async function findRun(period: string, q: Knex = db): Promise<SettlementRun | undefined> {
    const row = await q<RunRow>('settlement_runs').where({ period }).first();
    return row ? toRun(row) : undefined;
  }

  async function findPayout(idempotencyKey: string, q: Knex = db): Promise<Payout | undefined> {
    const row = await q<PayoutRow>('payouts').where({ idempotency_key: idempotencyKey }).first();
    return row ? toPayout(row) : undefined;
  }

  /** One settleRangeSql in one transaction; see its comment for why the counts must agree. */
  async function settle(
    period: string,
    kind: StatementKind,
    rangeOf: (column: string) => string,
    bindings: Record<string, string | number>,
  ): Promise<SettleRangeResult> {
    return db.transaction(async (trx) => {
      // One hash-aggregate group per merchant of the range: at the 4 MB default a few
      // thousand merchants spill to disk.
      await trx.raw(`SET LOCAL work_mem = '64MB'`);
      const { rows } = (await trx.raw(settleRangeSql(rangeOf, kind), { period, monthStart: `${period}-01`, ...bindings })) as {
        rows: Array<{ lines_marked: number; missing_rate: MissingRate[]; totals: Record<string, unknown> }>;
      };
      const [row] = rows;
      const totals = toTotals(row.totals);
      // They differ only when another transaction changed a summed order meanwhile (a
      // refund arriving, a settlement of another period); throwing rolls both back.
      if (row.lines_marked !== totals.lineCount) throw new SettlementConflictError(period, totals.lineCount, row.lines_marked);
      return { statements: totals.statements, linesMarked: row.lines_marked, missingRate: row.missing_rate, totals };
    });
  }

  return {
    /**
     * Merchants with something to settle for the period, ordered by id, after the cursor
     * (exclusive; '' starts at the beginning): unsettled receipt-confirmed orders, refunds
     * of settled orders not yet on a statement, or a balance carried by their latest
     * statement. Merchants already settled for this period (or a later one) are left out.
     */
    async merchantsToSettle(period: string, afterMerchantId: string, limit: number): Promise<string[]> {
      assertPeriod(period);
      // Each branch stops after `limit` merchants in index order; the union of three such
      // pages holds the first `limit` merchants of the whole set. Unsettled orders are many
      // per merchant, so that branch walks from merchant to merchant through the index (one
      // probe each) instead of reading every order of the page, and asks once per merchant
      // whether it is settled already: as a join, that check would run once per order.
      const { rows } = (await db.raw(
        `
        WITH RECURSIVE walk (merchant_id, settled, found) AS (
          SELECT m.merchant_id, ${SETTLED_FOR('m.merchant_id')}, 0
            FROM (SELECT min(o.merchant_id) AS merchant_id FROM orders o WHERE ${SALE_LINE('o')} AND o.merchant_id > :after) m
          UNION ALL
          SELECT m.merchant_id, ${SETTLED_FOR('m.merchant_id')}, w.found + CASE WHEN w.settled THEN 0 ELSE 1 END
            FROM walk w
           CROSS JOIN LATERAL (
             SELECT min(o.merchant_id) AS merchant_id FROM orders o WHERE ${SALE_LINE('o')} AND o.merchant_id > w.merchant_id
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
            WHERE ${REFUND_LINE('o')} AND o.merchant_id > :after AND ${NOT_SETTLED_FOR('o')}
            ORDER BY o.merchant_id LIMIT :limit)
          UNION
          (SELECT s.merchant_id FROM statements s
            WHERE s.period < :period AND s.carried_out_fen <> 0 AND s.merchant_id > :after
              AND NOT EXISTS (SELECT 1 FROM statements later WHERE later.merchant_id = s.merchant_id AND later.period > s.period)
            ORDER BY s.merchant_id LIMIT :limit)
        ) m
        ORDER BY merchant_id
        LIMIT :limit`,
        { period, monthStart: `${period}-01`, after: afterMerchantId, limit: positiveLimit(limit) },
      )) as { rows: Array<{ merchant_id: string }> };
      return rows.map((r) => r.merchant_id);
    },

    /**
     * Settles every merchant with an id in (fromMerchantIdExclusive, toMerchantIdInclusive]
     * (null: no upper bound) that has no statement for the period yet, in one transaction.
     * Safe to repeat: a settled merchant is skipped, so a second call inserts and marks nothing.
     */
    async settleMerchantRange(
      period: string,
      fromMerchantIdExclusive: string,
      toMerchantIdInclusive: string | null,
      thresholds: Thresholds,
    ): Promise<SettleRangeResult> {
      assertPeriod(period);
      const threshold = thresholdOf(thresholds);
      if (toMerchantIdInclusive !== null && toMerchantIdInclusive <= fromMerchantIdExclusive) {
        throw new SettlementValidationError(`empty merchant range (${fromMerchantIdExclusive}, ${toMerchantIdInclusive}]`);
      }
      const rangeOf = (column: string) =>
        toMerchantIdInclusive === null ? `${column} > :fromId` : `${column} > :fromId AND ${column} <= :toId`;
      const range = { fromId: fromMerchantIdExclusive, ...(toMerchantIdInclusive === null ? {} : { toId: toMerchantIdInclusive }) };
      return settle(period, 'monthly', rangeOf, { ...range, threshold });
    },

    /**
     * The final statement of a merchant whose shop closes: the same statement as a monthly
     * run's, under the period `asOf` falls in, paying a positive net whatever the threshold
     * and owing a negative one. Answers the statement already there when called again (a
     * monthly statement of that period counts: its lines are settled already).
     */
    async settleMerchantFinal(merchantId: string, period: string): Promise<{ statement: Statement | undefined; missingRate: MissingRate[] }> {
      assertPeriod(period);
      const { missingRate } = await settle(period, 'final', (column) => `${column} = :merchantId`, { merchantId, threshold: 0 });
      const row = await db<StatementRow>('statements').where({ merchant_id: merchantId, period }).first();
      return { statement: row ? toStatement(row) : undefined, missingRate };
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
     * Opens the run of a period once (`started: false` when it exists); a failed run is
     * reopened, keeping its progress so a new attempt resumes instead of restarting.
     */
    async startRun(period: string, opts: { workflowId?: string; merchantsTotal?: number } = {}): Promise<{ started: boolean; run: SettlementRun }> {
      assertPeriod(period);
      return db.transaction(async (trx) => {
        const inserted = await trx('settlement_runs')
          .insert({ period, status: 'running', workflow_id: opts.workflowId ?? null, merchants_total: opts.merchantsTotal ?? null })
          .onConflict('period')
          .ignore()
          .returning('period');
        const reopened =
          inserted.length === 0
            ? await trx('settlement_runs')
                .where({ period, status: 'failed' })
                .update({ status: 'running', completed_at: null, ...(opts.workflowId ? { workflow_id: opts.workflowId } : {}) })
            : 0;
        const run = await findRun(period, trx);
        if (!run) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
        return { started: inserted.length > 0 || reopened > 0, run };
      });
    },

    /**
     * The period's totals as its statements stand (monthly and final alike): whatever ran,
     * re-ran or was retried, the figures are the stored ones, never a count one run kept.
     */
    async periodTotals(period: string): Promise<SettlementTotals> {
      assertPeriod(period);
      return toTotals(await storedTotals(db, period));
    },

    /**
     * Progress: merchants done as the caller counts them; the totals are summed from the
     * period's statements (a run's own count would restart at 0 on a re-run or a retry).
     */
    async recordProgress(
      period: string,
      progress: { merchantsDone: number; failures?: unknown[]; merchantsTotal?: number },
    ): Promise<SettlementRun> {
      const update: Record<string, unknown> = { merchants_done: progress.merchantsDone, totals: JSON.stringify(await storedTotals(db, period)) };
      if (progress.failures !== undefined) update.failures = JSON.stringify(progress.failures);
      if (progress.merchantsTotal !== undefined) update.merchants_total = progress.merchantsTotal;
      const changed = await db('settlement_runs').where({ period }).update(update);
      if (changed === 0) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
      return (await findRun(period))!;
    },

    /** Ends the run once (a repeated call keeps the first completion time), with the stored totals. */
    async completeRun(
      period: string,
      outcome: { status?: Exclude<RunStatus, 'running'>; failures?: unknown[] } = {},
    ): Promise<SettlementRun> {
      const update: Record<string, unknown> = {
        status: outcome.status ?? 'completed',
        completed_at: db.raw('COALESCE(completed_at, now())'),
        totals: JSON.stringify(await storedTotals(db, period)),
      };
      if (outcome.failures !== undefined) update.failures = JSON.stringify(outcome.failures);
      const changed = await db('settlement_runs').where({ period }).update(update);
      if (changed === 0) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
      return (await findRun(period))!;
    },

    run: (period: string) => findRun(period),

    /**
     * Records the payout of a payable statement before the platform is asked to pay it.
     * The amount comes from the statement; the key `settle:<merchant>:<period>` makes a
     * repeated call answer `created: false` with the payout already recorded.
     */
    async recordPayoutRequested(merchantId: string, period: string, platformPayoutId?: string): Promise<{ created: boolean; payout: Payout }> {
      const key = payoutKey(merchantId, assertPeriod(period));
      return db.transaction(async (trx) => {
        const statement = await trx<StatementRow>('statements').where({ merchant_id: merchantId, period }).forUpdate().first();
        if (!statement) throw new SettlementRecordNotFoundError(`statement ${merchantId} ${period}`);
        if (Number(statement.payout_fen) <= 0) throw new NothingPayableError(merchantId, period);
        const inserted = await trx('payouts')
          .insert({
            idempotency_key: key,
            merchant_id: merchantId,
            period,
            amount_fen: statement.payout_fen,
            platform_payout_id: platformPayoutId ?? null,
            status: 'requested',
          })
          .onConflict('idempotency_key')
          .ignore()
          .returning('idempotency_key');
        if (inserted.length > 0) await trx('statements').where({ merchant_id: merchantId, period }).update({ payout_id: key });
        return { created: inserted.length > 0, payout: (await findPayout(key, trx))! };
      });
    },

    /** The platform paid: payout and statement become 'paid' once; a repeat keeps the first answer. */
    async markPayoutPaid(idempotencyKey: string, paid: { platformPayoutId: string; paidAt: Date }): Promise<Payout> {
      return db.transaction(async (trx) => {
        const changed = await trx('payouts')
          .where({ idempotency_key: idempotencyKey, status: 'requested' })
          .update({
            status: 'paid',
            paid_at: paid.paidAt,
            platform_payout_id: trx.raw('COALESCE(platform_payout_id, ?)', [paid.platformPayoutId]),
          })
          .returning<Array<{ merchant_id: string; period: string }>>(['merchant_id', 'period']);
        for (const r of changed) await trx('statements').where({ merchant_id: r.merchant_id, period: r.period }).update({ status: 'paid' });
        const payout = await findPayout(idempotencyKey, trx);
        if (!payout) throw new SettlementRecordNotFoundError(`payout ${idempotencyKey}`);
        return payout;
      });
    },

    findPayout: (idempotencyKey: string) => findPayout(idempotencyKey),

    /**
     * The next page of payable (not yet paid) statements after a merchant, with their payout
     * rows recorded first, set-based and idempotently: one INSERT … SELECT per page. A
     * payout left `requested` by a crash stays in its statement's page until it is paid.
     */
    async requestPayoutPage(period: string, afterMerchantId: string, limit: number): Promise<{ lastMerchantId: string | null; payouts: Payout[] }> {
      assertPeriod(period);
      return db.transaction(async (trx) => {
        const page = await trx('statements')
          .where({ period, status: 'payable' })
          .andWhere('merchant_id', '>', afterMerchantId)
          .orderBy('merchant_id')
          .limit(positiveLimit(limit))
          .pluck('merchant_id');
        if (page.length === 0) return { lastMerchantId: null, payouts: [] };
        const last = page[page.length - 1] as string;
        await trx.raw(
          `INSERT INTO payouts (idempotency_key, merchant_id, period, amount_fen, status)
           SELECT 'settle:' || s.merchant_id || ':' || s.period, s.merchant_id, s.period, s.payout_fen, 'requested'
             FROM statements s
            WHERE s.period = ? AND s.status = 'payable' AND s.merchant_id > ? AND s.merchant_id <= ?
           ON CONFLICT (idempotency_key) DO NOTHING`,
          [period, afterMerchantId, last],
        );
        await trx.raw(
          `UPDATE statements SET payout_id = 'settle:' || merchant_id || ':' || period
            WHERE period = ? AND status = 'payable' AND merchant_id > ? AND merchant_id <= ? AND payout_id IS NULL`,
          [period, afterMerchantId, last],
        );
        const rows = await trx<PayoutRow>('payouts')
          .where({ period, status: 'requested' })
          .andWhere('merchant_id', '>', afterMerchantId)
          .andWhere('merchant_id', '<=', last)
          .orderBy('merchant_id');
        return { lastMerchantId: last, payouts: rows.map(toPayout) };
      });
    },

    /** Marks a page of payouts paid, and their statements, in one UPDATE each; the first answer stands. */
    async markPayoutsPaid(paid: Array<{ idempotencyKey: string; platformPayoutId: string }>, paidAt: Date): Promise<number> {
      if (paid.length === 0) return 0;
      return db.transaction(async (trx) => {
        const values = paid.map(() => '(?, ?)').join(', ');
        const bindings = paid.flatMap((p) => [p.idempotencyKey, p.platformPayoutId]);
        const changed = await trx.raw(
          `UPDATE payouts p SET status = 'paid', paid_at = ?, platform_payout_id = COALESCE(p.platform_payout_id, v.pid)
             FROM (VALUES ${values}) AS v(key, pid)
            WHERE p.idempotency_key = v.key AND p.status = 'requested'
           RETURNING p.merchant_id, p.period`,
          [paidAt, ...bindings],
        );
        const rows = (changed as { rows: Array<{ merchant_id: string; period: string }> }).rows;
        if (rows.length > 0) {
          await trx('statements')
            .where({ period: rows[0]!.period })
            .whereIn('merchant_id', rows.map((r) => r.merchant_id))
            .update({ status: 'paid' });
        }
        return rows.length;
      });
    },
  };
}

export type SettlementRepository = ReturnType<typeof createSettlementRepository>;
