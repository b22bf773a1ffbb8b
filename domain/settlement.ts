/**
 * Monthly commission settlement (佣金结算, docs/rules.md §3): the fee table, the fees of
 * an order line, the settlement period, and a merchant's statement for one period.
 *
 * The merchant sells Taobao goods through Kuaishou and EARNS commission on them; Taobao
 * Union's technical service fee and Kuaishou's channel share are DEDUCTED from it. Both
 * fees are rates on the line's amount. Money is integer fen (safe integers), rates are
 * basis points (1% = 100 bp).
 *
 * Pure: no clock, no I/O, no Node built-ins, so workflow code may import it. The caller
 * passes instants in; the settlement activity decides when it runs.
 */
import { shanghaiDate, startOfShanghaiDay } from './shanghai-time';
import { requireIsoDate } from './civil-date';
import { lastNaturalMonth } from './deposit';

const BP_PER_UNIT = 10_000;
const CNY = 100;

function requireFen(name: string, value: number, { allowNegative = false } = {}): void {
  if (!Number.isSafeInteger(value) || (!allowNegative && value < 0)) {
    const kind = allowNegative ? 'a safe integer' : 'a non-negative safe integer';
    throw new Error(`${name} must be ${kind} number of fen, got ${value}`);
  }
}

/**
 * terms summed left to right, each partial sum checked: a sum of two safe integers is
 * exact whenever it is itself safe, so no rounding can slip into the result.
 */
function sumFen(name: string, ...terms: number[]): number {
  let sum = 0;
  for (const term of terms) {
    sum += term;
    requireFen(name, sum, { allowNegative: true });
  }
  return sum;
}

function requireBp(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > BP_PER_UNIT) {
    throw new Error(`${name} must be a whole number of basis points from 0 to ${BP_PER_UNIT}, got ${value}`);
  }
}

// A full timestamp with its offset: a bare date would be read as UTC midnight, 8 h off.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function parseInstant(name: string, iso: string): Date {
  const ms = ISO_TIMESTAMP.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${name} is not an ISO timestamp: ${JSON.stringify(iso)}`);
  return new Date(ms);
}

// ---------------------------------------------------------------------------------------
// Fee table

export interface FeeRate {
  category: string;
  /** Taobao Union's technical service fee, on the line amount. */
  unionFeeBp: number;
  /** Kuaishou's channel share, on the line amount. */
  channelShareBp: number;
  /** 'YYYY-MM-DD', Asia/Shanghai: the first day of receipt this version applies to. */
  effectiveFrom: string;
}

/** [src] seed table (docs/rules.md §3); effectiveFrom is [default]. */
export const DEFAULT_FEE_RATES: FeeRate[] = [
  // 服装鞋包: 10% + 3% = 13%
  { category: 'apparel', unionFeeBp: 1_000, channelShareBp: 300, effectiveFrom: '2020-01-01' },
  // 美妆个护: 15% + 4% = 19%
  { category: 'beauty', unionFeeBp: 1_500, channelShareBp: 400, effectiveFrom: '2020-01-01' },
  // 数码家电: 8% + 2% = 10%
  { category: 'digital', unionFeeBp: 800, channelShareBp: 200, effectiveFrom: '2020-01-01' },
];

/**
 * A category without a rate on the day stops that merchant's statement: charging a zero
 * fee would silently overpay the merchant, and money paid out is hard to get back.
 */
export class MissingFeeRateError extends Error {
  constructor(
    public readonly category: string,
    public readonly onDate: string,
  ) {
    super(
      `no fee rate for category ${JSON.stringify(category)} effective on ${onDate}; ` +
        'add one to the fee table before settling (a missing rate is never taken as zero)',
    );
    this.name = 'MissingFeeRateError';
  }
}

/**
 * The version of the category's rate in force on onDate: the one with the latest
 * effectiveFrom on or before it. Two versions from the same day are refused as ambiguous.
 */
export function rateFor(rates: FeeRate[], category: string, onDate: string): FeeRate {
  requireIsoDate(onDate);
  let found: FeeRate | undefined;
  for (const rate of rates) {
    if (rate.category !== category) continue;
    requireIsoDate(rate.effectiveFrom);
    requireBp(`${category} unionFeeBp`, rate.unionFeeBp);
    requireBp(`${category} channelShareBp`, rate.channelShareBp);
    if (found && rate.effectiveFrom === found.effectiveFrom) {
      throw new Error(`two fee rates for ${JSON.stringify(category)} are effective from ${rate.effectiveFrom}`);
    }
    // 'YYYY-MM-DD' strings (checked above) compare like the dates they name.
    if (rate.effectiveFrom <= onDate && (!found || rate.effectiveFrom > found.effectiveFrom)) found = rate;
  }
  if (!found) throw new MissingFeeRateError(category, onDate);
  return found;
}

/**
 * amountFen × bp / 10,000, rounded HALF-UP to the fen; a negative amount rounds half AWAY
 * FROM ZERO, so feeOf(-a, bp) === -feeOf(a, bp) and reversing a line reverses its fee
 * exactly. Integer arithmetic only: |amount| × bp + 5,000 must be a safe integer (below
 * 2^53), otherwise the product would already be inexact, so larger inputs throw.
 */
export function feeOf(amountFen: number, bp: number): number {
  requireFen('amountFen', amountFen, { allowNegative: true });
  requireBp('bp', bp);
  const scaled = Math.abs(amountFen) * bp + BP_PER_UNIT / 2;
  if (!Number.isSafeInteger(scaled)) {
    throw new Error(`feeOf(${amountFen}, ${bp}): amount × rate exceeds 2^53 and would not be exact`);
  }
  // Exact: scaled is a safe integer and so is scaled minus its remainder.
  const rounded = (scaled - (scaled % BP_PER_UNIT)) / BP_PER_UNIT;
  // 0 - 0 is +0, so a zero fee never comes out as -0.
  return amountFen < 0 ? 0 - rounded : rounded;
}

export interface SettlementLine {
  /** What the buyer paid for the line, after any refund before settlement. */
  amountFen: number;
  category: string;
  /** ISO timestamp with offset of 确认收货. */
  receiptConfirmedAt: string;
}

export interface LineFees {
  unionFeeFen: number;
  channelFeeFen: number;
}

/**
 * The fees of one order line, at the rate in force on the Shanghai date of receipt.
 * [default] Fees are rounded per line and a statement sums its lines (totalLineFees).
 */
export function lineFees(line: SettlementLine, rates: FeeRate[]): LineFees {
  requireFen('amountFen', line.amountFen);
  const receipt = parseInstant('receiptConfirmedAt', line.receiptConfirmedAt);
  const rate = rateFor(rates, line.category, shanghaiDate(receipt));
  return {
    unionFeeFen: feeOf(line.amountFen, rate.unionFeeBp),
    channelFeeFen: feeOf(line.amountFen, rate.channelShareBp),
  };
}

/** Sums of the lines' amounts and of their per-line rounded fees. */
export function totalLineFees(lines: SettlementLine[], rates: FeeRate[]): LineFees & { gmvFen: number } {
  let gmvFen = 0;
  let unionFeeFen = 0;
  let channelFeeFen = 0;
  for (const line of lines) {
    const fees = lineFees(line, rates);
    gmvFen = sumFen('total gmvFen', gmvFen, line.amountFen);
    unionFeeFen = sumFen('total unionFeeFen', unionFeeFen, fees.unionFeeFen);
    channelFeeFen = sumFen('total channelFeeFen', channelFeeFen, fees.channelFeeFen);
  }
  return { gmvFen, unionFeeFen, channelFeeFen };
}

// ---------------------------------------------------------------------------------------
// Settlement period

export interface SettlementPeriod {
  /** 'YYYY-MM' */
  period: string;
  /** 00:00 Shanghai time on the 1st. */
  start: Date;
  /** Exclusive: 00:00 Shanghai time on the 1st of the next month. */
  end: Date;
}

/** [src] A run settles receipts confirmed in the previous natural month (Asia/Shanghai). */
export function settlementPeriod(runAt: Date): SettlementPeriod {
  const { month, start, end } = lastNaturalMonth(runAt);
  return { period: month, start, end };
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** [start, end) of a 'YYYY-MM' period in Shanghai time. */
export function periodBounds(period: string): { start: Date; end: Date } {
  const match = PERIOD.exec(period);
  if (!match) throw new Error(`not a settlement period in YYYY-MM form: ${JSON.stringify(period)}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const [nextYear, nextMonth] = month === 12 ? [year + 1, 1] : [year, month + 1];
  return {
    start: startOfShanghaiDay(`${period}-01`),
    end: startOfShanghaiDay(`${String(nextYear).padStart(4, '0')}-${String(nextMonth).padStart(2, '0')}-01`),
  };
}

/**
 * [default] The first month merchant-ops settles: the default fee table starts on
 * 2020-01-01, so no order before it can have a fee and no statement before it can exist.
 */
export const FIRST_SETTLEMENT_PERIOD = '2020-01';

/**
 * Why `period` cannot be settled at `now`, or undefined. A period must be a real month from
 * FIRST_SETTLEMENT_PERIOD to the current month (Asia/Shanghai) inclusive: the current month
 * is what a shop closure's final statement settles under. A later month is refused, not
 * merely useless: its statements would count as "settled for a later period", so every
 * real monthly run would skip those merchants.
 */
export function settlementPeriodProblem(period: string, now: Date): string | undefined {
  const problem = settlementMonthProblem(period);
  if (problem) return problem;
  const current = periodOf(now);
  // 'YYYY-MM' strings (checked above) compare like the months they name.
  if (period > current) return `must not be after the current month (${current})`;
  return undefined;
}

/** Why `period` is no month merchant-ops could ever settle (not YYYY-MM, or before the first period), or undefined. */
export function settlementMonthProblem(period: string): string | undefined {
  if (!PERIOD.test(period)) return 'must be a month as YYYY-MM';
  if (period < FIRST_SETTLEMENT_PERIOD) return `must be ${FIRST_SETTLEMENT_PERIOD} or later`;
  return undefined;
}

/** 'YYYY-MM-DD': the 1st of the month after a 'YYYY-MM' period (year 9999's December gives 10000-01-01). */
export function firstDayAfter(period: string): string {
  const match = PERIOD.exec(period);
  if (!match) throw new Error(`not a settlement period in YYYY-MM form: ${JSON.stringify(period)}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const [nextYear, nextMonth] = month === 12 ? [year + 1, 1] : [year, month + 1];
  return `${String(nextYear).padStart(4, '0')}-${String(nextMonth).padStart(2, '0')}-01`;
}

/**
 * [default] A monthly run settles a period only once the period has ended: from 00:00
 * Asia/Shanghai on the 1st of the next month. Until then its orders are still being
 * confirmed, and a statement for it would make the merchant "settled" for the month, so the
 * rest of the month's sales would wait for the next one. The 1st, not the schedule's 20th:
 * a statement takes every order confirmed before the period's end, and one that reaches us
 * later goes on the next statement, so nothing is lost by running early (the 20th leaves
 * the feed time to catch up). A shop closure's final statement is not a run: it settles the
 * current month through the closure.
 *
 * Answers the earliest day `period` may run ('YYYY-MM-DD', Shanghai), or undefined once it has ended.
 */
export function periodNotEndedUntil(period: string, now: Date): string | undefined {
  // 'YYYY-MM' strings compare like the months they name.
  return period >= periodOf(now) ? firstDayAfter(period) : undefined;
}

/** The 'YYYY-MM' period an instant (e.g. a receipt confirmation) falls in, Shanghai time. */
export function periodOf(instant: Date): string {
  return shanghaiDate(instant).slice(0, 7);
}

// ---------------------------------------------------------------------------------------
// Statement
//
// This section is THE specification of a statement's arithmetic. Production computes the
// same figures in SQL, set-based (db/repositories/settlement/statements.ts); every figure
// has one name in both: the camelCase here is the `statements` column in snake_case
// (carriedOutFen is carried_out_fen). test/db/settlement-rule.property.test.ts checks the
// SQL against computeStatement on random orders.

/** 'final': a closing shop's statement; it pays any positive net and carries nothing. */
export type StatementKind = 'monthly' | 'final';

/**
 * The commission of one line less both its fees: what a statement pays for it, and what a
 * refund of it takes back once it was settled. [default] The merchant's commission on a line
 * is the line's amount; the union fee and the channel share are deducted from it.
 */
export function lineNetFen(line: SettlementLine, rates: FeeRate[]): number {
  const fees = lineFees(line, rates);
  return sumFen('lineNetFen', line.amountFen, -fees.unionFeeFen, -fees.channelFeeFen);
}

export interface StatementInput {
  /** ≥ 0: sum of the amounts of the period's lines (orders confirmed, not refunded, not yet settled). */
  gmvFen: number;
  /** ≥ 0: sum of the lines' union fees (lineFees, rounded per line). */
  unionFeeFen: number;
  /** ≥ 0: sum of the lines' channel fees (lineFees, rounded per line). */
  channelFeeFen: number;
  /**
   * ≥ 0: what is taken back for lines settled in an earlier statement and refunded since
   * (the sum of their lineNetFen): [default] a negative line in the next statement. A line
   * whose statement forfeited its commission (and no upheld appeal paid it back) was never
   * paid: its refund takes nothing.
   */
  refundsFen: number;
  /** The previous statement's carriedOutFen (0 for the first); negative when owed back. */
  carriedInFen: number;
  /** [src] A false-advertising flag (虚假宣传) is in force: the period's unsettled commission is forfeited. */
  flagged: boolean;
  /** 'monthly' unless a closing shop's final statement. */
  kind?: StatementKind;
}

/**
 * [src] Both Taobao Union's and the shop's thresholds must be met ("usually ≥ 100 CNY"),
 * so the higher one applies.
 */
export interface SettlementThresholds {
  unionFen: number;
  shopFen: number;
}

export const DEFAULT_SETTLEMENT_THRESHOLDS: SettlementThresholds = { unionFen: 100 * CNY, shopFen: 100 * CNY };

/**
 * The figures a statement stores, each under its column's name. Every figure is integer fen;
 * the inputs are echoed, the rest is derived:
 *
 *   periodNetFen  = gmvFen − unionFeeFen − channelFeeFen              (may be negative)
 *   forfeitedFen  = flagged ? max(0, periodNetFen) : 0
 *   netFen        = periodNetFen − forfeitedFen − refundsFen + carriedInFen
 *   monthly:  thresholdFen  = max(thresholds.unionFen, thresholds.shopFen)
 *             payoutFen     = netFen > 0 and ≥ thresholdFen ? netFen : 0
 *             carriedOutFen = netFen − payoutFen,  owedFen = 0
 *   final:    thresholdFen  = 0
 *             payoutFen     = max(0, netFen),  carriedOutFen = 0,  owedFen = max(0, −netFen)
 *
 * so payoutFen + carriedOutFen − owedFen === netFen.
 */
export interface StatementFigures {
  gmvFen: number;
  unionFeeFen: number;
  channelFeeFen: number;
  refundsFen: number;
  carriedInFen: number;
  /**
   * What false advertising cost: this period's net, when positive. [default] "Unsettled"
   * means not yet stated: an amount carried in was settled in an earlier statement (only its
   * payout waited for the threshold) and stays. A negative period net is not forfeited (the
   * fees stay owed), nor are refunds of settled lines (they are owed back).
   */
  forfeitedFen: number;
  /** What the merchant is owed after everything; negative when the merchant owes. */
  netFen: number;
  /** Paid out now: the whole net once it reaches the threshold (any positive net on a final statement), else 0. */
  payoutFen: number;
  /** Carried into the next statement's carriedInFen: below threshold or negative (0 on a final statement). */
  carriedOutFen: number;
  /** What a final statement's negative net leaves the merchant owing (0 on a monthly one). */
  owedFen: number;
}

/** The stored figures' names: what the SQL and computeStatement must agree on. */
export const STATEMENT_FIGURES = [
  'gmvFen',
  'unionFeeFen',
  'channelFeeFen',
  'refundsFen',
  'carriedInFen',
  'forfeitedFen',
  'netFen',
  'payoutFen',
  'carriedOutFen',
  'owedFen',
] as const satisfies ReadonlyArray<keyof StatementFigures>;

/** computeStatement's answer: the stored figures, and the two it derives them through. */
export interface ComputedStatement extends StatementFigures {
  kind: StatementKind;
  /** This period's own result: gmv less both fees. */
  periodNetFen: number;
  /** The threshold applied: the higher of the union's and the shop's (0 on a final statement). */
  thresholdFen: number;
}

/** A merchant's statement for one period; see StatementFigures for how each figure is defined. */
export function computeStatement(
  input: StatementInput,
  thresholds: SettlementThresholds = DEFAULT_SETTLEMENT_THRESHOLDS,
): ComputedStatement {
  const { gmvFen, unionFeeFen, channelFeeFen, refundsFen, carriedInFen, kind = 'monthly' } = input;
  requireFen('gmvFen', gmvFen);
  requireFen('unionFeeFen', unionFeeFen);
  requireFen('channelFeeFen', channelFeeFen);
  requireFen('refundsFen', refundsFen);
  requireFen('carriedInFen', carriedInFen, { allowNegative: true });
  requireFen('thresholds.unionFen', thresholds.unionFen);
  requireFen('thresholds.shopFen', thresholds.shopFen);
  if (typeof input.flagged !== 'boolean') throw new Error(`flagged must be a boolean, got ${input.flagged}`);
  if (kind !== 'monthly' && kind !== 'final') throw new Error(`kind must be 'monthly' or 'final', got ${JSON.stringify(kind)}`);

  const periodNetFen = sumFen('periodNetFen', gmvFen, -unionFeeFen, -channelFeeFen);
  const forfeitedFen = input.flagged ? Math.max(0, periodNetFen) : 0;
  const netFen = sumFen('netFen', periodNetFen, -forfeitedFen, -refundsFen, carriedInFen);

  const echoed = { gmvFen, unionFeeFen, channelFeeFen, refundsFen, carriedInFen, forfeitedFen, netFen, kind, periodNetFen };
  if (kind === 'final') {
    return { ...echoed, thresholdFen: 0, payoutFen: Math.max(0, netFen), carriedOutFen: 0, owedFen: Math.max(0, -netFen) };
  }
  const thresholdFen = Math.max(thresholds.unionFen, thresholds.shopFen);
  const payoutFen = netFen > 0 && netFen >= thresholdFen ? netFen : 0;
  return { ...echoed, thresholdFen, payoutFen, carriedOutFen: netFen - payoutFen, owedFen: 0 };
}

/**
 * What an upheld appeal pays back of a statement's forfeiture, once the last flag the
 * statement used is upheld: the forfeiture less the lineNetFen of its forfeited lines
 * refunded meanwhile (never paid, so never taken back), never below 0.
 */
export function forfeitureRepaidFen(forfeitedFen: number, forfeitedLinesRefundedFen: number): number {
  requireFen('forfeitedFen', forfeitedFen);
  requireFen('forfeitedLinesRefundedFen', forfeitedLinesRefundedFen, { allowNegative: true });
  return Math.max(0, sumFen('forfeitureRepaidFen', forfeitedFen, -forfeitedLinesRefundedFen));
}
