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
 * Pure: no I/O, no clock, no Node built-ins. Deadlines are computed in activities and kept in
 * history (the data changes each year); workflow code imports the data-free modules it re-exports.
 */
import packagedData from 'chinese-days/dist/chinese-days.json';
import {
  epochDayOf,
  isoDateOfEpochDay,
  requireIsoDate,
  weekdayOfEpochDay,
} from './civil-date';
import { shanghaiDate } from './shanghai-time';
import type { WorkingDayCalendar } from './working-days';

// Data-free parts live in their own modules so workflow code can import them without the
// package's calendar data (2 MB of JSON evaluated again for every workflow the worker starts).
export { endOfShanghaiDay, shanghaiDate, startOfShanghaiDay } from './shanghai-time';
export { planWorkingDayDeadline, workingDayDeadline, type WorkingDayCalendar } from './working-days';

/** 'YYYY-MM-DD' -> free text (chinese-days uses 'English,中文,n'). */
export interface CalendarData {
  /** Statutory days off (法定节假日, including the weekends folded into them). */
  holidays: Record<string, string>;
  /** Weekends that are working days because of an adjustment (调休 上班). */
  workdays: Record<string, string>;
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
