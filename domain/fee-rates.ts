import { shanghaiDate } from './shanghai-time';
import { epochDayOf, isoDateOfEpochDay, parseIsoDate } from './civil-date';
import { FIRST_SETTLEMENT_PERIOD } from './settlement';

/**
 * What a new fee-rate version may say (docs/rules.md §3). Whether it would rewrite a priced
 * line is the database's to decide (migration 019); these are the bounds of a sane request.
 */

/** The earliest day a rate may take effect: the first day of the first settleable period. */
export const EARLIEST_RATE_DATE = `${FIRST_SETTLEMENT_PERIOD}-01`;
/** How far ahead a rate may be announced [default]: a year, so a mistyped year is caught. */
export const MAX_DAYS_AHEAD = 366;
/** A part of a rate in basis points; the two parts together at most the whole line. */
export const MAX_RATE_BP = 10_000;

/** Why `effectiveFrom` ('YYYY-MM-DD', Asia/Shanghai) cannot start a rate today, or undefined. */
export function effectiveFromProblem(effectiveFrom: string, now: Date): string | undefined {
  const parts = parseIsoDate(effectiveFrom);
  if (!parts) return 'must be a real day as YYYY-MM-DD (Asia/Shanghai)';
  if (effectiveFrom < EARLIEST_RATE_DATE) return `must be on or after ${EARLIEST_RATE_DATE}`;
  const latest = isoDateOfEpochDay(epochDayOf(parseIsoDate(shanghaiDate(now))!) + MAX_DAYS_AHEAD);
  if (effectiveFrom > latest) return `must be at most ${MAX_DAYS_AHEAD} days ahead (on or before ${latest}, Asia/Shanghai)`;
  return undefined;
}

/** Why the two parts cannot be a rate, or undefined: each a whole bp, together ≤ 10,000. */
export function rateProblem(unionFeeBp: number, channelShareBp: number): string | undefined {
  if (unionFeeBp + channelShareBp > MAX_RATE_BP) return `unionFeeBp + channelShareBp must be at most ${MAX_RATE_BP} (100%)`;
  return undefined;
}
