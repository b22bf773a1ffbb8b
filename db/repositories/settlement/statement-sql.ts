import type { StatementKind } from '../../../domain/settlement';
import {
  CARRIES_INTO_PERIOD,
  FEE_OF,
  FORFEIT_FLAG_ACTIVE,
  FORFEITURE_STANDS,
  RATES_CTE,
  RATE_IN_FORCE_ON,
  REFUND_LINE,
  SALE_LINE,
  SETTLED_FOR,
  SHANGHAI_DATE,
} from './lines';
import { TOTALS_JSON } from './records';

/**
 * The SQL of a period's statements (docs/rules.md §3), set-based: a range of merchants is
 * settled by one INSERT ... SELECT ... GROUP BY and one UPDATE, never one query per order.
 *
 * THE SPECIFICATION of every figure is domain/settlement.ts computeStatement; the SQL below
 * computes the same figures under the same names (a `statements` column is the spec's field
 * in snake_case) and test/db/settlement-rule.property.test.ts checks that they are equal on
 * random orders, categories, rates by date, refunds, carries, thresholds, forfeiture flags
 * and final statements. Change the rule there first. What only the SQL decides:
 * - which orders are lines of the period, at which rate (lines.ts);
 * - a merchant with a line in a category without a rate gets no statement and keeps its
 *   orders unsettled until a rate exists;
 * - the statements primary key makes each (merchant, period) statement exist once; orders
 *   are marked only for statements inserted by the same call, in the same statement;
 * - periods are settled in order: a merchant with a statement for a later period is skipped,
 *   so a carried balance is never carried twice.
 */

/**
 * One statement: the lines of the range, priced; the merchants blocked by a missing rate;
 * the sums per merchant with what they carry in and forfeit; the INSERT of the statements;
 * the UPDATEs marking the lines of the inserted statements. Every part of one statement
 * reads the same snapshot, so the UPDATEs find the rows that were summed; a row another
 * transaction changed meanwhile fails the UPDATE's recheck, and the caller rolls back
 * when the count marked differs from the count summed.
 */
export function settleRangeSql(rangeOf: (column: string) => string, kind: StatementKind): string {
  // computeStatement: monthly pays the whole net once it reaches the threshold, else carries it;
  // final pays a positive net whatever its size, owes a negative one, and carries nothing.
  const decided =
    kind === 'monthly'
      ? `CASE WHEN n.net_fen >= :thresholdFen AND n.net_fen > 0 THEN n.net_fen ELSE 0 END AS payout_fen,
         CASE WHEN n.net_fen >= :thresholdFen AND n.net_fen > 0 THEN 0 ELSE n.net_fen END AS carried_out_fen,
         0 AS owed_fen`
      : `GREATEST(n.net_fen, 0) AS payout_fen, 0 AS carried_out_fen, GREATEST(-n.net_fen, 0) AS owed_fen`;
  return `
WITH ${RATES_CTE},
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
         ${FEE_OF('l.amount_fen', 'r.union_fee_bp')} AS union_fee_fen,
         ${FEE_OF('l.amount_fen', 'r.channel_share_bp')} AS channel_fee_fen
    FROM lines l
    LEFT JOIN rates r
      ON r.category = l.category
     AND ${RATE_IN_FORCE_ON('l.receipt_date')}
),
sums AS (
  SELECT merchant_id,
         COALESCE(SUM(amount_fen) FILTER (WHERE NOT is_refund), 0)::bigint AS gmv_fen,
         COALESCE(SUM(union_fee_fen) FILTER (WHERE NOT is_refund), 0)::bigint AS union_fee_fen,
         COALESCE(SUM(channel_fee_fen) FILTER (WHERE NOT is_refund), 0)::bigint AS channel_fee_fen,
         -- lineNetFen of each refund line; a line whose commission was forfeited was never paid: its refund takes nothing back.
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
   WHERE ${CARRIES_INTO_PERIOD('s')} AND ${rangeOf('s.merchant_id')}
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
period_nets AS (
  SELECT m.*, m.gmv_fen - m.union_fee_fen - m.channel_fee_fen AS period_net_fen
    FROM merchants m
   WHERE m.unrated IS NULL
),
figures AS (
  -- This period's own net: refunds of lines settled earlier were paid out and are still
  -- owed back, so they are not netted off.
  SELECT pn.*, CASE WHEN f.merchant_id IS NULL THEN 0 ELSE GREATEST(pn.period_net_fen, 0) END AS forfeited_fen
    FROM period_nets pn
    LEFT JOIN flagged f ON f.merchant_id = pn.merchant_id
),
nets AS (
  SELECT f.*, f.period_net_fen - f.forfeited_fen - f.refunds_fen + f.carried_in_fen AS net_fen
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
       (SELECT ${TOTALS_JSON} FROM inserted) AS totals`;
}

