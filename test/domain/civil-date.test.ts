import {
  epochDayOf,
  isIsoDate,
  isRealDate,
  isoDateOfEpochDay,
  parseIsoDate,
  weekdayOfEpochDay,
} from '../../domain/civil-date';

test.each([
  ['2024-02-29', true],
  ['2000-02-29', true],
  ['1900-02-29', false],
  ['2026-02-29', false],
  ['2026-04-31', false],
  ['2026-12-31', true],
  ['2026-00-10', false],
  ['2026-1-10', false],
  ['26-01-10', false],
  [' 2026-01-10', false],
  ['2026-01-10\n', false],
  ['0000-01-01', false], // no year 0 (PostgreSQL refuses it)
  ['0000-02-29', false],
  ['0001-01-01', true],
  ['9999-12-31', true],
])('isIsoDate(%j) = %s', (value, expected) => {
  expect(isIsoDate(value)).toBe(expected);
});

test('parseIsoDate returns the parts', () => {
  expect(parseIsoDate('2026-10-12')).toEqual({ year: 2026, month: 10, day: 12 });
});

test('isRealDate refuses non-integers', () => {
  expect(isRealDate({ year: 2026, month: 1.5, day: 1 })).toBe(false);
});

test.each([
  ['1970-01-01', 0, 4],
  ['2026-10-10', 20736, 6],
  ['2026-10-11', 20737, 0],
  ['1969-12-31', -1, 3],
  ['0050-03-01', -701206, 2], // a two-digit year is not read as 1950
])('%s is epoch day %i, weekday %i', (date, epochDay, weekday) => {
  expect(epochDayOf(parseIsoDate(date)!)).toBe(epochDay);
  expect(isoDateOfEpochDay(epochDay)).toBe(date);
  expect(weekdayOfEpochDay(epochDay)).toBe(weekday);
  expect(weekdayOfEpochDay(epochDay)).toBe(new Date(`${date}T00:00:00Z`).getUTCDay());
});
