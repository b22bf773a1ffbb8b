/**
 * Counting working days on a calendar the caller supplies (domain/calendar.ts builds it from
 * the packaged data, a file and the years ops loaded). Data-free, so workflow code may import it.
 */
import { endOfShanghaiDay, shanghaiDate } from './shanghai-time';

export interface WorkingDayCalendar {
  /** Throws CalendarYearNotLoadedError for a year without data, Error for a malformed date. */
  isWorkingDay(date: string): boolean;
  /** The n-th working day strictly after fromDate (n a positive integer). */
  addWorkingDays(fromDate: string, n: number): string;
  /** Years with data, ascending. */
  loadedYears(): number[];
  /** Whether the year of date has official data (package, file or loaded by ops). */
  covers(date: string): boolean;
  /** Whether date falls in a year answered by the provisional calendar (no official data yet). */
  isProvisional(date: string): boolean;
  /** Like addWorkingDays; provisional when any day counted lies in a provisional year. */
  countWorkingDays(fromDate: string, n: number): { date: string; provisional: boolean };
}

/**
 * Deadline of "N working days from submission" (the review SLA, docs/rules.md §1):
 * the end, Shanghai time, of the N-th working day after the Shanghai date of submission.
 * The day of submission never counts, whatever the hour and whether or not it is a
 * working day; so a case submitted on Saturday or on a holiday starts counting on the
 * next working day, the same as one submitted at 23:59 on a Friday.
 */
export function workingDayDeadline(
  submittedAt: Date,
  workingDays: number,
  cal: WorkingDayCalendar,
): Date {
  return planWorkingDayDeadline(submittedAt, workingDays, cal).deadline;
}

/**
 * workingDayDeadline, saying whether a day it counted came from the provisional calendar
 * (then the deadline must be re-planned once the official year is loaded).
 */
export function planWorkingDayDeadline(
  submittedAt: Date,
  workingDays: number,
  cal: WorkingDayCalendar,
): { deadline: Date; provisional: boolean } {
  const { date, provisional } = cal.countWorkingDays(shanghaiDate(submittedAt), workingDays);
  return { deadline: endOfShanghaiDay(date), provisional };
}
