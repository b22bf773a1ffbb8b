import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createWorkingDayCalendar } from '../../domain/calendar';
import { loadCalendarFile } from '../../domain/calendar-file';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'calendar-file-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeCalendar(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('a valid file loads and makes its year usable', () => {
  const path = writeCalendar(
    'cal-2027.json',
    JSON.stringify({
      holidays: { '2027-01-01': "New Year's Day,元旦,1" },
      workdays: { '2027-01-02': "New Year's Day,元旦,1" },
      inLieuDays: { '2027-01-01': 'ignored' },
    }),
  );
  const data = loadCalendarFile(path);
  expect(data).toEqual({
    holidays: { '2027-01-01': "New Year's Day,元旦,1" },
    workdays: { '2027-01-02': "New Year's Day,元旦,1" },
  });
  const cal = createWorkingDayCalendar(data);
  expect(cal.covers('2027-01-04')).toBe(true);
  expect(cal.isWorkingDay('2027-01-02')).toBe(true);
});

test.each([
  ['bad-key.json', { holidays: { '2027-1-1': 'x' }, workdays: {} }, /holidays\.2027-1-1: must be a real date as YYYY-MM-DD/],
  ['not-real.json', { holidays: { '2027-02-29': 'x' }, workdays: {} }, /holidays\.2027-02-29: must be a real date/],
  ['no-workdays.json', { holidays: { '2027-01-01': 'x' } }, /workdays: /],
  ['bad-value.json', { holidays: { '2027-01-01': 1 }, workdays: {} }, /holidays\.2027-01-01: /],
  ['both.json', { holidays: { '2027-01-01': 'x' }, workdays: { '2027-01-01': 'x' } }, /workdays\.2027-01-01: is also listed as a holiday/],
  ['array.json', [], /\(root\): /],
])('%s is refused with a message naming the file and the field', (name, content, reason) => {
  const path = writeCalendar(name, JSON.stringify(content));
  expect(() => loadCalendarFile(path)).toThrow(`calendar file ${path} is invalid`);
  expect(() => loadCalendarFile(path)).toThrow(reason);
});

test('a file that is not JSON is refused, naming the file', () => {
  const path = writeCalendar('broken.json', '{ "holidays": ');
  expect(() => loadCalendarFile(path)).toThrow(`calendar file ${path} is not valid JSON`);
});

test('a missing file is refused, naming the file', () => {
  const path = join(dir, 'absent.json');
  expect(() => loadCalendarFile(path)).toThrow(`cannot read calendar file ${path}`);
});
