/**
 * Mainland-China working-day calendar (docs/rules.md conventions): weekends and statutory
 * holidays are off, and the adjusted working weekends (调休 上班) are on.
 *
 * The data comes from the maintained `chinese-days` package, which follows the State
 * Council's yearly holiday notice; the notice for next year usually appears in
 * November, so a deployment may add a year early through an extra calendar file
 * (CALENDAR_EXTRA_PATH, read by calendar-file.ts) or ops may load it into the database
 * (PUT /v1/admin/calendar/:year). A year after the official data is answered by the
 * provisional calendar when one is given (CalendarOptions), and every deadline that counted
 * on it says so, to be re-planned when the year is loaded; without one, or for a year
 * before the data, the year is refused (CalendarYearNotLoadedError), never guessed silently.
 *
 * Pure: no I/O, no clock, no Node built-ins, so workflow code may import it. Deadlines
 * are still computed in activities and kept in history (the data changes each year).
 */
import packagedData from 'chinese-days/dist/chinese-days.json';
import {
  MS_PER_DAY,
  epochDayOf,
  isoDateOfEpochDay,
  requireIsoDate,
  weekdayOfEpochDay,
} from './civil-date';

/** 'YYYY-MM-DD' -> free text (chinese-days uses 'English,中文,n'). */
export interface CalendarData {
  /** Statutory days off (法定节假日, including the weekends folded into them). */
  holidays: Record<string, string>;
  /** Weekends that are working days because of an adjustment (调休 上班). */
  workdays: Record<string, string>;
}

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

export interface CalendarOptions {
  /**
   * Days off for a year after the last one with official data (domain/provisional-calendar.ts).
   * Without it such a year is refused (CalendarYearNotLoadedError).
   */
  provisional?: (year: number) => CalendarData;
}

export class CalendarYearNotLoadedError extends Error {
  constructor(public readonly year: number) {
    super(
      `the working-day calendar has no data for ${year}; ` +
        `load it (CALENDAR_EXTRA_PATH) before computing dates in that year`,
    );
    this.name = 'CalendarYearNotLoadedError';
  }
}

const SATURDAY = 6;
const SUNDAY = 0;

/**
 * Package data merged with extra data. Extra wins per date: a date listed in either
 * extra map is classified by the extra data only. A year counts as loaded when it has at
 * least one holiday, since every real year has some (元旦 at least); a year with only
 * adjusted weekends is a partial correction, not a calendar.
 */
export function createWorkingDayCalendar(extra?: CalendarData, options: CalendarOptions = {}): WorkingDayCalendar {
  const holidays = new Set(Object.keys(packagedData.holidays));
  const workdays = new Set(Object.keys(packagedData.workdays));
  if (extra) {
    for (const date of [...Object.keys(extra.holidays), ...Object.keys(extra.workdays)]) {
      requireIsoDate(date);
      holidays.delete(date);
      workdays.delete(date);
    }
    for (const date of Object.keys(extra.holidays)) holidays.add(date);
    for (const date of Object.keys(extra.workdays)) workdays.add(date);
  }
  const years = [...new Set([...holidays].map((date) => Number(date.slice(0, 4))))].sort(
    (a, b) => a - b,
  );
  const loaded = new Set(years);
  const lastLoaded = years.length > 0 ? years[years.length - 1] : -Infinity;
  // Only years after the official data: a gap or a year before it is a mistake, not the future.
  const provisionalHolidays = new Map<number, Set<string> | null>();
  function provisionalDaysOff(year: number): Set<string> | null {
    if (!options.provisional || year <= lastLoaded) return null;
    if (!provisionalHolidays.has(year)) {
      let days: Set<string> | null;
      try {
        days = new Set(Object.keys(options.provisional(year).holidays));
      } catch {
        days = null; // beyond the provisional calendar's own tables: as good as unloaded
      }
      provisionalHolidays.set(year, days);
    }
    return provisionalHolidays.get(year)!;
  }

  function isWorkingDay(date: string): boolean {
    const parts = requireIsoDate(date);
    const weekday = weekdayOfEpochDay(epochDayOf(parts));
    const weekend = weekday === SATURDAY || weekday === SUNDAY;
    if (!loaded.has(parts.year)) {
      const daysOff = provisionalDaysOff(parts.year);
      if (!daysOff) throw new CalendarYearNotLoadedError(parts.year);
      return !weekend && !daysOff.has(date);
    }
    if (workdays.has(date)) return true;
    if (holidays.has(date)) return false;
    return !weekend;
  }

  function isProvisional(date: string): boolean {
    const { year } = requireIsoDate(date);
    return !loaded.has(year) && provisionalDaysOff(year) !== null;
  }

  function countWorkingDays(fromDate: string, n: number): { date: string; provisional: boolean } {
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`working days to add must be a positive integer, got ${n}`);
    }
    // Ends: every step advances one day, and an unloaded year throws.
    let day = epochDayOf(requireIsoDate(fromDate));
    let counted = 0;
    let provisional = false;
    while (counted < n) {
      day += 1;
      const date = isoDateOfEpochDay(day);
      if (isWorkingDay(date)) counted += 1;
      provisional ||= isProvisional(date);
    }
    return { date: isoDateOfEpochDay(day), provisional };
  }

  return {
    isWorkingDay,
    addWorkingDays: (fromDate, n) => countWorkingDays(fromDate, n).date,
    countWorkingDays,
    isProvisional,
    loadedYears: () => [...years],
    covers: (date) => loaded.has(requireIsoDate(date).year),
  };
}

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

export interface CalendarCoverage {
  /** The last day with official data ('YYYY-MM-DD'), or null when there is none. */
  officialThrough: string | null;
  /** Days from today (Shanghai) to officialThrough; negative once it has passed. */
  daysLeft: number | null;
  /** Fewer than CALENDAR_WARNING_DAYS left: ops should load next year's official data. */
  warning: boolean;
}

// An enterprise SLA of 5 working days spans about two weeks around Spring Festival;
// 60 days gives ops time to load next year's calendar before any deadline needs it.
export const CALENDAR_WARNING_DAYS = 60;

/** How far the official data reaches from now, for the worker's start and the readiness check. */
export function calendarCoverage(cal: WorkingDayCalendar, now: Date): CalendarCoverage {
  const years = cal.loadedYears();
  if (years.length === 0) return { officialThrough: null, daysLeft: null, warning: true };
  const officialThrough = `${years[years.length - 1]}-12-31`;
  const daysLeft = epochDayOf(requireIsoDate(officialThrough)) - epochDayOf(requireIsoDate(shanghaiDate(now)));
  return { officialThrough, daysLeft, warning: daysLeft < CALENDAR_WARNING_DAYS };
}

/** Where activities take the calendar from: the data may change while the worker runs. */
export interface CalendarSource {
  current(): Promise<WorkingDayCalendar>;
}

export async function calendarOf(source: WorkingDayCalendar | CalendarSource): Promise<WorkingDayCalendar> {
  return 'current' in source ? source.current() : source;
}

/**
 * The base extra data (the file) with whole years loaded by ops laid over it: a loaded year
 * replaces every date the base lists in that year.
 */
export function withLoadedYears(base: CalendarData | undefined, years: Array<{ year: number } & CalendarData>): CalendarData {
  const replaced = new Set(years.map((y) => String(y.year)));
  const keep = (map: Record<string, string> = {}) => Object.fromEntries(Object.entries(map).filter(([date]) => !replaced.has(date.slice(0, 4))));
  const merged: CalendarData = { holidays: keep(base?.holidays), workdays: keep(base?.workdays) };
  for (const y of years) {
    Object.assign(merged.holidays, y.holidays);
    Object.assign(merged.workdays, y.workdays);
  }
  return merged;
}
