import { shanghaiDate } from './shanghai-time';

/**
 * `orders` is partitioned by the Shanghai month an order was paid in (migration 030): one
 * table per month, `orders_YYYY_MM`. These are the month rules the partition schedule and
 * the archive command share: months as 'YYYY-MM', counted in whole calendar months.
 */

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** 'YYYY-MM' from year 1 (PostgreSQL has no year 0). */
export function isMonth(value: string): boolean {
  return MONTH.test(value) && !value.startsWith('0000-');
}

/** Months since year 0: two months' distance is a subtraction. */
function monthIndex(month: string): number {
  const m = MONTH.exec(month);
  if (!m || !isMonth(month)) throw new Error(`not a month (YYYY-MM): ${JSON.stringify(month)}`);
  return Number(m[1]) * 12 + Number(m[2]) - 1;
}

function monthOfIndex(index: number): string {
  const year = Math.floor(index / 12);
  return `${String(year).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The Shanghai month ('YYYY-MM') an instant falls in. */
export function shanghaiMonth(instant: Date): string {
  return shanghaiDate(instant).slice(0, 7);
}

export function addMonths(month: string, months: number): string {
  return monthOfIndex(monthIndex(month) + months);
}

/** The first day of a month as PostgreSQL's `date` takes it. */
export const firstDayOf = (month: string): string => `${monthOfIndex(monthIndex(month))}-01`;

/** The partition of a month's orders: `orders_2026_03`. */
export const partitionOf = (month: string): string => `orders_${monthOfIndex(monthIndex(month)).replace('-', '_')}`;

export const DEFAULT_MONTHS_AHEAD = 3;
/** Two years of empty tables is already more than any order can need ahead of its month. */
const MAX_MONTHS_AHEAD = 24;

/** Why `monthsAhead` is refused, or undefined when it is a whole number from 0 to 24. */
export function monthsAheadRefusal(monthsAhead: number): string | undefined {
  if (Number.isInteger(monthsAhead) && monthsAhead >= 0 && monthsAhead <= MAX_MONTHS_AHEAD) return undefined;
  return `monthsAhead must be a whole number of months from 0 to ${MAX_MONTHS_AHEAD}, not ${monthsAhead}`;
}

/** The months the partition schedule makes sure exist: the current one and `monthsAhead` after it. */
export function monthsToEnsure(now: Date, monthsAhead: number): { from: string; through: string } {
  const refusal = monthsAheadRefusal(monthsAhead);
  if (refusal) throw new Error(refusal);
  const from = shanghaiMonth(now);
  return { from, through: addMonths(from, monthsAhead) };
}

export const DEFAULT_ARCHIVE_MIN_AGE_MONTHS = 6;

/**
 * Why a month may not be archived yet, or undefined when it may: it must have ended at least
 * `minAgeMonths` whole months before `now` (Shanghai time). A month ends when the next one
 * starts, so March ended 6 months ago from 1 October 00:00 Shanghai on.
 */
export function archiveAgeRefusal(month: string, now: Date, minAgeMonths: number = DEFAULT_ARCHIVE_MIN_AGE_MONTHS): string | undefined {
  if (!Number.isInteger(minAgeMonths) || minAgeMonths < 1) return `the minimum age must be a whole number of months, at least 1 (not ${minAgeMonths})`;
  const earliest = addMonths(month, 1 + minAgeMonths);
  if (monthIndex(earliest) <= monthIndex(shanghaiMonth(now))) return undefined;
  return `${month} ended less than ${minAgeMonths} months ago: it may be archived from ${earliest}-01 (Asia/Shanghai)`;
}
