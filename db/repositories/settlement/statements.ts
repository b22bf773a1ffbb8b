import type { Knex } from 'knex';
import type { SettlementThresholds, StatementKind } from '../../../domain/settlement';
import { FEE_RATES_LOCK } from '../../migrations/019_fee_rates_and_idempotency';
import { settleRangeSql } from './statement-sql';
import {
  SettlementValidationError,
  assertPeriod,
  toStatement,
  toTotals,
  type SettlementTotals,
  type Statement,
  type StatementRow,
} from './records';

/**
 * Writing a period's statements: settleRangeSql (statement-sql.ts, checked against
 * domain/settlement.ts computeStatement) run once per merchant range, in one transaction.
 */

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

function thresholdFenOf(t: SettlementThresholds): number {
  for (const value of [t.unionFen, t.shopFen]) {
    if (!Number.isSafeInteger(value) || value < 0) throw new SettlementValidationError(`thresholds must be whole fen ≥ 0, got ${value}`);
  }
  return Math.max(t.unionFen, t.shopFen);
}

export function createStatementRepository(db: Knex) {
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
      // Shared with other ranges, exclusive with a new fee rate (migration 019): a rate added
      // meanwhile either is seen by this statement or sees the lines it settled, never neither.
      await trx.raw(`SELECT pg_advisory_xact_lock_shared(${FEE_RATES_LOCK})`);
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
     * Settles every merchant with an id in (fromMerchantIdExclusive, toMerchantIdInclusive]
     * (null: no upper bound) that has no statement for the period yet, in one transaction.
     * Safe to repeat: a settled merchant is skipped, so a second call inserts and marks nothing.
     */
    async settleMerchantRange(
      period: string,
      fromMerchantIdExclusive: string,
      toMerchantIdInclusive: string | null,
      thresholds: SettlementThresholds,
    ): Promise<SettleRangeResult> {
      assertPeriod(period);
      const thresholdFen = thresholdFenOf(thresholds);
      if (toMerchantIdInclusive !== null && toMerchantIdInclusive <= fromMerchantIdExclusive) {
        throw new SettlementValidationError(`empty merchant range (${fromMerchantIdExclusive}, ${toMerchantIdInclusive}]`);
      }
      const rangeOf = (column: string) =>
        toMerchantIdInclusive === null ? `${column} > :fromId` : `${column} > :fromId AND ${column} <= :toId`;
      const range = { fromId: fromMerchantIdExclusive, ...(toMerchantIdInclusive === null ? {} : { toId: toMerchantIdInclusive }) };
      return settle(period, 'monthly', rangeOf, { ...range, thresholdFen });
    },

    /**
     * The final statement of a merchant whose shop closes: the same statement as a monthly
     * run's, under the period `asOf` falls in, paying a positive net whatever the threshold
     * and owing a negative one. Answers the statement already there when called again (a
     * monthly statement of that period counts: its lines are settled already).
     */
    async settleMerchantFinal(merchantId: string, period: string): Promise<{ statement: Statement | undefined; missingRate: MissingRate[] }> {
      assertPeriod(period);
      const { missingRate } = await settle(period, 'final', (column) => `${column} = :merchantId`, { merchantId });
      const row = await db<StatementRow>('statements').where({ merchant_id: merchantId, period }).first();
      return { statement: row ? toStatement(row) : undefined, missingRate };
    },
  };
}

export type StatementRepository = ReturnType<typeof createStatementRepository>;
