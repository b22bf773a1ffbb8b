/**
 * Calendar dates without a time of day or a time zone ('YYYY-MM-DD'), counted as whole
 * days since 1970-01-01 ("epoch days"). Pure arithmetic on UTC epoch milliseconds, so
 * results never depend on the host's time zone.
 */

export interface DateParts {
  year: number;
  month: number;
  day: number;
}

export const MS_PER_DAY = 86_400_000;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * True when year-month-day names a day that exists in the (proleptic) Gregorian calendar, from
 * year 1: there is no year 0 (PostgreSQL refuses it, and no record of ours could carry it).
 */
export function isRealDate({ year, month, day }: DateParts): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
  return day <= daysInMonth;
}

/** Parts of a strict 'YYYY-MM-DD' string naming a real day, or undefined. */
export function parseIsoDate(value: string): DateParts | undefined {
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const parts = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isRealDate(parts) ? parts : undefined;
}

export function isIsoDate(value: string): boolean {
  return parseIsoDate(value) !== undefined;
}

/** Like parseIsoDate, for callers to whom a malformed string is a programming error. */
export function requireIsoDate(value: string): DateParts {
  const parts = parseIsoDate(value);
  if (!parts) throw new Error(`not a real date in YYYY-MM-DD form: ${JSON.stringify(value)}`);
  return parts;
}

export function epochDayOf({ year, month, day }: DateParts): number {
  // Date.UTC would read years 0–99 as 1900–1999; setUTCFullYear takes them literally.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return Math.floor(date.getTime() / MS_PER_DAY);
}

export function isoDateOfEpochDay(epochDay: number): string {
  return new Date(epochDay * MS_PER_DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday, like Date.getUTCDay. 1970-01-01 was a Thursday. */
export function weekdayOfEpochDay(epochDay: number): number {
  return (((epochDay + 4) % 7) + 7) % 7;
}
