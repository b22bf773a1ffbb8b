import { MS_PER_DAY, epochDayOf, isoDateOfEpochDay, requireIsoDate } from './civil-date';

/**
 * Business time is Asia/Shanghai (docs/rules.md). China has used UTC+8 all year since 1991
 * (no daylight saving), so a fixed offset on epoch milliseconds is exact for every date
 * the calendar covers and needs no time-zone database (none in the workflow sandbox).
 */
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The Shanghai calendar date ('YYYY-MM-DD') of an instant. */
export function shanghaiDate(instant: Date): string {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) throw new Error('shanghaiDate needs a valid Date');
  return isoDateOfEpochDay(Math.floor((ms + SHANGHAI_OFFSET_MS) / MS_PER_DAY));
}

/** 00:00:00.000 Shanghai time on date (16:00:00.000Z the day before). */
export function startOfShanghaiDay(date: string): Date {
  return new Date(epochDayOf(requireIsoDate(date)) * MS_PER_DAY - SHANGHAI_OFFSET_MS);
}

/** 23:59:59.999 Shanghai time on date (15:59:59.999Z the same day). */
export function endOfShanghaiDay(date: string): Date {
  return new Date(startOfShanghaiDay(date).getTime() + MS_PER_DAY - 1);
}
