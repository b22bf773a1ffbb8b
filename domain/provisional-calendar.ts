/**
 * A provisional working-day calendar for a year the State Council has not published yet
 * (docs/rules.md conventions): weekends off, plus every statutory holiday on its own date —
 * 元旦 1 Jan; 春节 from the eve (last day of the 12th lunar month) to the 3rd day of the
 * 1st month; 清明 (the solar term); 劳动节 1 May; 端午 (5th day of the 5th month); 中秋
 * (15th of the 8th); 国庆 1–3 Oct. The published calendar usually adds bridge days and
 * adjusted working weekends (调休), which cannot be predicted, so a deadline counted on
 * this calendar is marked provisional and re-planned when the official year is loaded.
 *
 * The lunar and solar-term dates come from the `chinese-days` package (tables to 2100).
 * The package converts through the host's local time and is wrong by a day on hosts west of
 * UTC (checked: America/New_York); festivalsOffOnWorkingDays lets the worker refuse such a
 * host at start by comparing against years with official data.
 * Pure: no clock and no I/O; kept apart from calendar.ts so workflow code, which imports
 * calendar.ts for its Shanghai-time helpers, does not bundle the lunar tables.
 */
import { getSolarDateFromLunar, getSolarTermDate } from 'chinese-days';
import type { CalendarData } from './calendar';
import { epochDayOf, isoDateOfEpochDay, requireIsoDate } from './civil-date';

/** The lunar tables of the package end here. */
export const LAST_PROVISIONAL_YEAR = 2100;

const pad = (n: number) => String(n).padStart(2, '0');

/** The Gregorian date of a lunar month and day of lunar year `year` (never the leap month). */
function lunarToSolar(year: number, month: number, day: number): string {
  return getSolarDateFromLunar(`${year}-${pad(month)}-${pad(day)}`).date;
}

function addDays(date: string, days: number): string {
  return isoDateOfEpochDay(epochDayOf(requireIsoDate(date)) + days);
}

export function provisionalYear(year: number): CalendarData {
  if (!Number.isInteger(year) || year < 1901 || year > LAST_PROVISIONAL_YEAR) {
    throw new Error(`no provisional calendar for ${year}: lunar tables cover 1901–${LAST_PROVISIONAL_YEAR}`);
  }
  const springFestival = lunarToSolar(year, 1, 1);
  const qingming = getSolarTermDate(year, 4, 'pure_brightness');
  const holidays: Record<string, string> = {
    [`${year}-01-01`]: "New Year's Day,元旦 (provisional)",
    // The eve is the day before the 1st of the 1st month, whether the 12th month has 29 or 30 days.
    [addDays(springFestival, -1)]: 'Spring Festival eve,除夕 (provisional)',
    [springFestival]: 'Spring Festival,春节 (provisional)',
    [addDays(springFestival, 1)]: 'Spring Festival,春节 (provisional)',
    [addDays(springFestival, 2)]: 'Spring Festival,春节 (provisional)',
    [qingming]: 'Tomb-sweeping Day,清明 (provisional)',
    [`${year}-05-01`]: 'Labour Day,劳动节 (provisional)',
    [lunarToSolar(year, 5, 5)]: 'Dragon Boat Festival,端午 (provisional)',
    [lunarToSolar(year, 8, 15)]: 'Mid-autumn Festival,中秋 (provisional)',
    [`${year}-10-01`]: 'National Day,国庆节 (provisional)',
    [`${year}-10-02`]: 'National Day,国庆节 (provisional)',
    [`${year}-10-03`]: 'National Day,国庆节 (provisional)',
  };
  return { holidays, workdays: {} };
}

/** The festival days that are statutory holidays every year since 2008. */
function fixedFestivals(year: number): string[] {
  return [lunarToSolar(year, 1, 1), getSolarTermDate(year, 4, 'pure_brightness'), lunarToSolar(year, 5, 5), lunarToSolar(year, 8, 15)];
}

/**
 * Festival dates the provisional calendar computes for `years` that official data says are
 * working days: none when the lunar conversion is right. Years from 2008 (when 清明, 端午
 * and 中秋 became holidays) with official data.
 */
export function festivalsOffOnWorkingDays(isWorkingDay: (date: string) => boolean, years: number[]): string[] {
  return years.filter((y) => y >= 2008).flatMap(fixedFestivals).filter((date) => isWorkingDay(date));
}
