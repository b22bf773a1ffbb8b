import type { Knex } from 'knex';
import { createWorkingDayCalendar, withLoadedYears, type CalendarData, type CalendarSource } from '../domain/calendar';
import { provisionalYear } from '../domain/provisional-calendar';
import { createCalendarYearRepository } from './repositories/calendar-years';

/**
 * The working-day calendar as it stands now: the package's years, the CALENDAR_EXTRA_PATH
 * file, the years ops loaded into `calendar_years`, and the provisional calendar for the
 * years after them. Read on every use (one small table), so a year loaded through the API
 * counts at once in every worker without a restart.
 */
export function createCalendarSource(db: Knex, fileData?: CalendarData): CalendarSource {
  const years = createCalendarYearRepository(db);
  return {
    async current() {
      return createWorkingDayCalendar(withLoadedYears(fileData, await years.all()), { provisional: provisionalYear });
    },
  };
}
