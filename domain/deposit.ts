/**
 * Deposit rules (保证金, docs/rules.md §2): the required amount, the month it is assessed
 * from, the enforcement ladder's timetable, withdrawing excess promotion deposit, and when
 * a closing shop's deposits may be refunded. Amounts are integer fen (safe integers).
 *
 * Pure: no clock, no I/O, no Node built-ins, so workflow code may import it. The caller
 * passes "now" in; deadlines are computed in activities and kept in history (STYLE.md).
 */
import { shanghaiDate, startOfShanghaiDay } from './shanghai-time';
import { MS_PER_DAY } from './civil-date';
import type { DepositPolicy, ShopType } from './deposit-policy';
import { LADDER_STEPS, RESTRICTIONS, type LadderStep, type Restriction } from './deposit-steps';

function requireFen(name: string, value: number, { allowNegative = false } = {}): void {
  if (!Number.isSafeInteger(value) || (!allowNegative && value < 0)) {
    const kind = allowNegative ? 'a safe integer' : 'a non-negative safe integer';
    throw new Error(`${name} must be ${kind} number of fen, got ${value}`);
  }
}

function requireInstant(name: string, value: Date): number {
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw new Error(`${name} must be a valid Date`);
  return ms;
}

// A full timestamp with its offset: a bare date would be read as UTC midnight, 8 h off.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function parseInstant(name: string, iso: string): number {
  const ms = ISO_TIMESTAMP.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${name} is not an ISO timestamp: ${JSON.stringify(iso)}`);
  return ms;
}

/** 1234567 -> '12,345.67 CNY'. Integer arithmetic only (no locale data in the sandbox). */
export function formatCny(fen: number): string {
  requireFen('amount', fen, { allowNegative: true });
  const abs = Math.abs(fen);
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = String(abs % 100).padStart(2, '0');
  return `${fen < 0 ? '-' : ''}${yuan}.${cents} CNY`;
}

export interface RequiredDepositInput {
  shopType: ShopType;
  /** Categories the shop sells (duplicates and non-special ones are ignored). */
  specialCategories: string[];
  /** GMV of the last natural month (lastNaturalMonth), in fen. */
  lastMonthGmvFen: number;
}

export interface RequiredDeposit {
  baseFen: number;
  specialFen: number;
  gmvTierFen: number;
  totalFen: number;
  /** The special categories charged for, in the policy's order. */
  specialCategoriesCounted: string[];
}

/** [src] base by shop type plus special categories, re-assessed from last month's sales. */
export function requiredDeposit(policy: DepositPolicy, input: RequiredDepositInput): RequiredDeposit {
  requireFen('lastMonthGmvFen', input.lastMonthGmvFen);
  const baseFen = Math.max(policy.baseFen[input.shopType], policy.minimumBaseFen);
  const sold = new Set(input.specialCategories);
  const specialCategoriesCounted = [...new Set(policy.specialCategories)].filter((c) => sold.has(c));
  const specialFen = policy.specialCategoryExtraFen * specialCategoriesCounted.length;
  // Tiers ascend (the schema checks), so the last one reached is the highest.
  let gmvTierFen = 0;
  for (const tier of policy.gmvTiers) {
    if (tier.fromFen <= input.lastMonthGmvFen) gmvTierFen = tier.extraFen;
  }
  const totalFen = baseFen + specialFen + gmvTierFen;
  requireFen('required deposit', totalFen);
  return { baseFen, specialFen, gmvTierFen, totalFen, specialCategoriesCounted };
}

export interface NaturalMonth {
  /** 'YYYY-MM' */
  month: string;
  /** 00:00 Shanghai time on the 1st. */
  start: Date;
  /** Exclusive: 00:00 Shanghai time on the 1st of the next month. */
  end: Date;
}

/** The calendar month (Asia/Shanghai) before the one containing now ([src] 上一个自然月). */
export function lastNaturalMonth(now: Date): NaturalMonth {
  requireInstant('now', now);
  const today = shanghaiDate(now);
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  const [prevYear, prevMonth] = month === 1 ? [year - 1, 12] : [year, month - 1];
  const pad = (n: number) => String(n).padStart(2, '0');
  const label = `${prevYear}-${pad(prevMonth)}`;
  return {
    month: label,
    start: startOfShanghaiDay(`${label}-01`),
    end: startOfShanghaiDay(`${year}-${pad(month)}-01`),
  };
}

/**
 * When each ladder step comes into force for a shortfall that began at episodeStart:
 * afterDays × 24 h later ([default] calendar days; Shanghai has no daylight saving, so a
 * day is always 24 h). In ladder order.
 */
export function ladderSchedule(policy: DepositPolicy, episodeStart: Date): Array<{ step: LadderStep; at: string }> {
  const startMs = requireInstant('episodeStart', episodeStart);
  return [...policy.ladder]
    .sort((a, b) => LADDER_STEPS.indexOf(a.step) - LADDER_STEPS.indexOf(b.step))
    .map(({ step, afterDays }) => ({ step, at: new Date(startMs + afterDays * MS_PER_DAY).toISOString() }));
}

/** The restrictions in force once these steps have run, in ladder order. */
export function restrictionsAfter(stepsDone: LadderStep[]): Restriction[] {
  return RESTRICTIONS.filter((r) => stepsDone.includes(r));
}

/**
 * What a top-up must bring in to end the episode: up to the requirement, plus whatever the
 * merchant still owes (a top-up pays that first, docs/rules.md §2). The balance may be
 * negative in histories from before owed amounts were kept apart.
 */
export function shortfallFen(balanceFen: number, requiredFen: number, owedFen = 0): number {
  requireFen('balanceFen', balanceFen, { allowNegative: true });
  requireFen('requiredFen', requiredFen);
  requireFen('owedFen', owedFen);
  const shortfall = Math.max(0, requiredFen + owedFen - balanceFen);
  requireFen('shortfall', shortfall);
  return shortfall;
}

export interface OwedCollection {
  fromDepositFen: number;
  fromPromotionFen: number;
  /** What neither deposit covers: it stays owed (the ledger's receivable). */
  stillOwedFen: number;
}

/**
 * What a closing shop owes (a new debt plus what was already owed) is taken from the main
 * deposit first, then from the promotion deposit; what neither covers stays owed
 * (docs/rules.md §2). Nothing is ever dropped: taken + still owed = the whole debt.
 */
export function collectOwed(input: { depositFen: number; promotionFen: number; owedFen: number }): OwedCollection {
  requireFen('depositFen', input.depositFen, { allowNegative: true });
  requireFen('promotionFen', input.promotionFen, { allowNegative: true });
  requireFen('owedFen', input.owedFen);
  const fromDepositFen = Math.min(input.owedFen, Math.max(0, input.depositFen));
  const fromPromotionFen = Math.min(input.owedFen - fromDepositFen, Math.max(0, input.promotionFen));
  return { fromDepositFen, fromPromotionFen, stillOwedFen: input.owedFen - fromDepositFen - fromPromotionFen };
}

export interface PromotionWithdrawalInput {
  promotionBalanceFen: number;
  /** High-deposit categories the shop still has open. */
  highDepositCategoriesOpen: string[];
  /** The shop's highest-deposit category, or null when it has none. */
  highestDepositCategory: string | null;
  /** That category's sales in the last natural month (lastNaturalMonth), in fen. */
  highestDepositCategoryLastMonthSalesFen: number;
}

export type PromotionWithdrawal = { allowed: true; amountFen: number } | { allowed: false; reasons: string[] };

export const NO_EXCESS_REASON = 'no excess: the balance is at or below the minimum';

/**
 * [src] Excess promotion deposit may be withdrawn when (1) the high-deposit categories are
 * closed and (2) the highest-deposit category sold nothing in the last natural month. The
 * excess is what lies above the [src] minimum. Every unmet condition is reported.
 */
export function excessPromotionWithdrawal(policy: DepositPolicy, input: PromotionWithdrawalInput): PromotionWithdrawal {
  requireFen('promotionBalanceFen', input.promotionBalanceFen, { allowNegative: true });
  const salesFen = input.highestDepositCategoryLastMonthSalesFen;
  requireFen('highestDepositCategoryLastMonthSalesFen', salesFen);
  if (input.highestDepositCategory === null && salesFen > 0) {
    throw new Error('sales of the highest-deposit category were given, but no such category');
  }

  const reasons: string[] = [];
  const open = [...new Set(input.highDepositCategoriesOpen)];
  if (open.length > 0) {
    const noun = open.length === 1 ? 'category is' : 'categories are';
    reasons.push(`the high-deposit ${noun} still open: ${open.join(', ')}`);
  }
  if (salesFen > 0) {
    reasons.push(
      `the highest-deposit category (${input.highestDepositCategory}) sold ${formatCny(salesFen)} ` +
        'in the last natural month; it must have sold nothing',
    );
  }
  const amountFen = Math.max(0, input.promotionBalanceFen - policy.promotionMinimumFen);
  if (amountFen === 0) reasons.push(NO_EXCESS_REASON);
  return reasons.length > 0 ? { allowed: false, reasons } : { allowed: true, amountFen };
}

/** [src] 7-day no-reason return after receipt, then [default] days for disputes. */
export function afterSalesWindowEnd(policy: DepositPolicy, receiptConfirmedAt: Date): Date {
  const receiptMs = requireInstant('receiptConfirmedAt', receiptConfirmedAt);
  const { returnDays, disputeDays } = policy.afterSales;
  return new Date(receiptMs + (returnDays + disputeDays) * MS_PER_DAY);
}

export interface ClosureOrder {
  status: 'open' | 'finished';
  /** Null when the buyer never confirmed receipt (e.g. cancelled before shipping). */
  receiptConfirmedAt: string | null;
}

export interface ClosureWait {
  /** Orders not yet finished: closure waits for them whatever the date. */
  blockedByOpenOrders: number;
  /** The last after-sales window end still ahead of now (ISO), or null when none. */
  waitUntil: string | null;
}

/**
 * What holds back a closing shop's refund ([default] flow, docs/rules.md §2): every
 * order must be finished and its after-sales window passed. A finished order without a
 * confirmed receipt has no after-sales window. A window ending exactly at now has passed.
 */
export function closureWaitUntil(policy: DepositPolicy, orders: ClosureOrder[], now: Date): ClosureWait {
  const nowMs = requireInstant('now', now);
  let blockedByOpenOrders = 0;
  let latestMs: number | null = null;
  for (const [i, order] of orders.entries()) {
    if (order.status === 'open') {
      blockedByOpenOrders += 1;
      continue;
    }
    if (order.receiptConfirmedAt === null) continue;
    const receipt = new Date(parseInstant(`orders[${i}].receiptConfirmedAt`, order.receiptConfirmedAt));
    const endMs = afterSalesWindowEnd(policy, receipt).getTime();
    if (endMs > nowMs && (latestMs === null || endMs > latestMs)) latestMs = endMs;
  }
  return { blockedByOpenOrders, waitUntil: latestMs === null ? null : new Date(latestMs).toISOString() };
}
