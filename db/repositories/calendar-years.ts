import type { Knex } from 'knex';
import type { CalendarData } from '../../domain/calendar';

export interface CalendarYear extends CalendarData {
  year: number;
  loadedBy: string;
  loadedAt: Date;
}

/** Official calendar years loaded by ops (migration 017), read by every worker and the API. */
export function createCalendarYearRepository(db: Knex) {
  return {
    /** Replaces the year's data; the last load wins. */
    async save(year: number, data: CalendarData, loadedBy: string, at: Date): Promise<void> {
      await db('calendar_years')
        .insert({ year, holidays: JSON.stringify(data.holidays), workdays: JSON.stringify(data.workdays), loaded_by: loadedBy, loaded_at: at })
        .onConflict('year')
        .merge();
    },

    async all(): Promise<CalendarYear[]> {
      const rows = await db('calendar_years').orderBy('year');
      return rows.map((r) => ({ year: r.year, holidays: r.holidays, workdays: r.workdays, loadedBy: r.loaded_by, loadedAt: r.loaded_at }));
    },
  };
}
