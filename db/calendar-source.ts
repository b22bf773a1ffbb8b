import type { Knex } from 'knex';
import { createWorkingDayCalendar, withLoadedYears, type CalendarData, type CalendarSource, type WorkingDayCalendar } from '../domain/calendar';
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
  // Building the calendar indexes twenty years of dates: built again only when the loaded years
  // changed (every violation case and review reads it).
  let built: { loaded: string; calendar: WorkingDayCalendar } | null = null;
  return {
    async current() {
      const rows = await years.all();
      const loaded = JSON.stringify(rows);
      if (built?.loaded !== loaded) built = { loaded, calendar: createWorkingDayCalendar(withLoadedYears(fileData, rows), { provisional: provisionalYear }) };
      return built.calendar;
    },
  };
}
