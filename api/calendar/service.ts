import type { Client } from '@temporalio/client';
import { replanProvisional } from '../../activities/calendar-replan';
import type { Db } from '../../db/connection';
import { createCalendarYearRepository } from '../../db/repositories/calendar-years';
import type { CalendarData, CalendarSource } from '../../domain/calendar';

/**
 * Official calendar years (docs/rules.md conventions): stored for every worker, then every
 * open process whose pending deadline was counted on the provisional calendar, and whose
 * deadline now falls in a year with official data, is signalled to count it again (the
 * signal and the new deadline go into its history). Repeating it is harmless: a process
 * whose deadline is already official ignores the signal.
 */
export function createCalendarService({ db, temporal, calendar }: { db: Db; temporal: Client; calendar: CalendarSource }) {
  const years = createCalendarYearRepository(db);
  return {
    async load(year: number, data: CalendarData, loadedBy: string, at: Date) {
      await years.save(year, data, loadedBy, at);
      const replanned = await replanProvisional({ db, temporal, calendar });
      return { year, holidays: Object.keys(data.holidays).length, workdays: Object.keys(data.workdays).length, replanned };
    },
  };
}

export type CalendarService = ReturnType<typeof createCalendarService>;
