/**
 * Reads an extra working-day calendar (CALENDAR_EXTRA_PATH) for years the `chinese-days`
 * package does not cover yet, e.g. next year's State Council notice. Kept apart from
 * calendar.ts because it uses fs, which workflow code must never pull in.
 *
 * Format: the shape of CalendarData, e.g.
 *   { "holidays": { "2027-01-01": "New Year's Day,元旦,1" },
 *     "workdays": { "2027-02-20": "Spring Festival,春节,4" } }
 */
import { readFileSync } from 'fs';
import { z } from 'zod';
import type { CalendarData } from './calendar';
import { isIsoDate } from './civil-date';

const dayMap = z.record(z.string(), z.string());

// Keys are checked here rather than by a key schema, so a message names the bad date.
const calendarFileSchema = z
  .object({ holidays: dayMap, workdays: dayMap })
  .superRefine((data, ctx) => {
    for (const map of ['holidays', 'workdays'] as const) {
      for (const date of Object.keys(data[map])) {
        if (!isIsoDate(date)) {
          ctx.addIssue({ code: 'custom', path: [map, date], message: 'must be a real date as YYYY-MM-DD' });
        }
      }
    }
    for (const date of Object.keys(data.workdays)) {
      if (Object.hasOwn(data.holidays, date)) {
        ctx.addIssue({
          code: 'custom',
          path: ['workdays', date],
          message: 'is also listed as a holiday; a day is either off or on',
        });
      }
    }
  });

export function loadCalendarFile(path: string): CalendarData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`cannot read calendar file ${path}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new Error(`calendar file ${path} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  const parsed = calendarFileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`calendar file ${path} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
