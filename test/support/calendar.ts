import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CalendarData } from '../../domain/calendar';

/**
 * Suites that run on the time-skipping server's clock (the real date) would stop
 * working once "now plus a few weeks" leaves the years the calendar package has.
 * For tests only, later years are loaded with New Year's Day, always a holiday; the
 * suites compute their expected deadlines with this same calendar. Production counts such
 * years on the provisional calendar until official data is loaded (file or admin route).
 */
export const TEST_CALENDAR_EXTRA: CalendarData = {
  holidays: Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`${2027 + i}-01-01`, "New Year's Day (test data)"])),
  workdays: {},
};

export function writeTestCalendarFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'merchant-ops-calendar-')), 'calendar.json');
  fs.writeFileSync(file, JSON.stringify(TEST_CALENDAR_EXTRA));
  return file;
}
