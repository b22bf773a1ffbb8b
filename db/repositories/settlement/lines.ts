/**
 * Which orders are lines of a period's statement, and at what rate, as SQL fragments shared
 * by the statement INSERT (statements.ts) and the merchant walk (queries.ts). They bind
 * `:period` ('YYYY-MM') and `:monthStart` ('YYYY-MM-01').
 *
 * - A period is a natural month in Asia/Shanghai. Its statement takes every receipt-confirmed
 *   order confirmed before the period's end and not yet settled, so an order that reached us
 *   after its own month was settled is paid next time, not lost.
 * - A settled order refunded before the period's end comes back as a refund line.
 * - A line takes the rate of its category in force on the Shanghai date of receipt (rates are
 *   never edited, only added), as domain/settlement.ts rateFor picks it.
 */

/** The first instant after the period, Shanghai time. */
export const PERIOD_END = `((CAST(:monthStart AS date) + interval '1 month') AT TIME ZONE 'Asia/Shanghai')`;
export const SHANGHAI_DATE = (column: string) => `(${column} AT TIME ZONE 'Asia/Shanghai')::date`;

/** Every version of every rate with the day the next version of its category takes over (NULL: still in force). */
export const RATES_CTE = `rates AS (
  SELECT category, effective_from, union_fee_bp, channel_share_bp,
         lead(effective_from) OVER (PARTITION BY category ORDER BY effective_from) AS effective_until
    FROM fee_rates
)`;

/** Joins `rates r` to the version in force on `date`. */
export const RATE_IN_FORCE_ON = (date: string) =>
  `r.effective_from <= ${date} AND (r.effective_until IS NULL OR ${date} < r.effective_until)`;

/** A fee of `bp` on `amount`, rounded half-up to the fen per line (domain/settlement.ts feeOf). */
export const FEE_OF = (amount: string, bp: string) => `(${amount} * ${bp} + 5000) / 10000`;

/** An order to be paid by the period's statement. */
export const SALE_LINE = (o: string) =>
  `${o}.settled_period IS NULL AND ${o}.status = 'receipt_confirmed' AND ${o}.receipt_confirmed_at < ${PERIOD_END}`;

/** A settled order refunded before the period's end, not yet taken back by a statement. */
export const REFUND_LINE = (o: string) =>
  `${o}.settled_period IS NOT NULL AND ${o}.refund_settled_period IS NULL AND ${o}.refunded_at IS NOT NULL
   AND ${o}.refunded_at < ${PERIOD_END} AND ${o}.settled_period < :period`;

/** The merchant has a statement for this period or a later one. */
export const SETTLED_FOR = (merchantId: string) =>
  `EXISTS (SELECT 1 FROM statements done WHERE done.merchant_id = ${merchantId} AND done.period >= :period)`;

/** No statement for this period or a later one: the merchant is still to be settled. */
export const NOT_SETTLED_FOR = (alias: string) =>
  `NOT EXISTS (SELECT 1 FROM statements done WHERE done.merchant_id = ${alias}.merchant_id AND done.period >= :period)`;

/** The latest statement of its merchant before the period, still carrying a balance. */
export const CARRIES_INTO_PERIOD = (s: string) =>
  `${s}.period < :period AND ${s}.carried_out_fen <> 0
   AND NOT EXISTS (SELECT 1 FROM statements later WHERE later.merchant_id = ${s}.merchant_id AND later.period > ${s}.period)`;

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
export const FORFEIT_FLAG_ACTIVE = `flag = 'forfeit_unsettled' AND since <= now() AND (until IS NULL OR until > now()) AND consumed_period IS NULL`;
