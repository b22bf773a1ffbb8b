import { z } from 'zod';
import { isIsoDate } from '../../domain/civil-date';

// Years the provisional calendar and the table both accept (migration 017's check).
export const calendarYearParams = z.object({ year: z.coerce.number().int().min(2000).max(2100) }).strict();

const dayNames = z.record(
  z.string().refine(isIsoDate, 'must be a real date as YYYY-MM-DD'),
  z.string().trim().min(1).max(100).describe('the name in the notice, e.g. 春节'),
);

/** One year of the State Council's notice: every day off, and the weekends worked instead. */
export const calendarYearBody = z
  .object({
    holidays: dayNames.describe('statutory days off, including the weekends folded into a break'),
    workdays: dayNames.describe('weekends that are working days (调休 上班)'),
  })
  .strict();
export type CalendarYearBody = z.infer<typeof calendarYearBody>;

/** The year must be in its own data, have at least one day off, and list no day both ways. */
export function yearIssues(year: number, body: CalendarYearBody): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  for (const map of ['holidays', 'workdays'] as const) {
    for (const date of Object.keys(body[map])) {
      if (!date.startsWith(`${year}-`)) issues.push({ path: `${map}.${date}`, message: `is not in ${year}` });
    }
  }
  for (const date of Object.keys(body.workdays)) {
    if (Object.hasOwn(body.holidays, date)) issues.push({ path: `workdays.${date}`, message: 'is also listed as a holiday; a day is either off or on' });
  }
  if (Object.keys(body.holidays).length === 0) issues.push({ path: 'holidays', message: 'a year has at least New Year’s Day off' });
  return issues;
}

export const calendarYearLoaded = z.object({
  year: z.number().int(),
  holidays: z.number().int().describe('days off loaded'),
  workdays: z.number().int().describe('adjusted working days loaded'),
  replanned: z.array(z.string()).describe('workflow ids of open processes with a provisional deadline, signalled to count it again'),
});
