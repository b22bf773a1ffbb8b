import type { Knex } from 'knex';
import type { StatementFigures, StatementKind } from '../../../domain/settlement';

/** What the settlement repositories share: the statement row, the period's totals, the errors. */

export type StatementStatus = 'payable' | 'carried' | 'paid';

/** A stored statement: domain/settlement.ts StatementFigures under the same names, and its bookkeeping. */
export interface Statement extends StatementFigures {
  merchantId: string;
  period: string;
  kind: StatementKind;
  lineCount: number;
  status: StatementStatus;
  payoutId: string | null;
  createdAt: Date;
}

/** The period's statements summed (owedFen aside: a final statement's debt is taken from the deposit, not paid). */
export interface SettlementTotals extends Omit<StatementFigures, 'owedFen'> {
  statements: number;
  lineCount: number;
  payableCount: number;
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

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export function assertPeriod(period: string): string {
  if (!PERIOD.test(period)) throw new SettlementValidationError(`period must be YYYY-MM, got ${JSON.stringify(period)}`);
  return period;
}

export function positiveLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new SettlementValidationError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

export interface StatementRow {
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

// int8 arrives as a number from both drivers (see connection.ts); Number() also covers
// the sums that come back inside json.
export const toStatement = (r: StatementRow): Statement => ({
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

/** A json_build_object of SettlementTotals over a set of statement rows (`FROM statements` or a CTE). */
export const TOTALS_JSON = `json_build_object('statements', COUNT(*), 'payableCount', COUNT(*) FILTER (WHERE status = 'payable'), ${Object.entries(
  TOTAL_COLUMNS,
)
  .map(([key, column]) => `'${key}', COALESCE(SUM(${column}), 0)`)
  .join(', ')})`;

export function toTotals(json: Record<string, unknown>): SettlementTotals {
  const keys = ['statements', 'payableCount', ...Object.keys(TOTAL_COLUMNS)] as Array<keyof SettlementTotals>;
  return Object.fromEntries(keys.map((k) => [k, Number(json[k] ?? 0)])) as unknown as SettlementTotals;
}

/** The period's stored statements summed (monthly and final alike). */
export async function storedTotals(q: Knex, period: string): Promise<SettlementTotals> {
  const { rows } = (await q.raw(`SELECT ${TOTALS_JSON} AS totals FROM statements WHERE period = ?`, [period])) as {
    rows: Array<{ totals: Record<string, unknown> }>;
  };
  return toTotals(rows[0]!.totals);
}
