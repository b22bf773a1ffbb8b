import { addMonths, archiveAgeRefusal, isMonth, monthsAheadRefusal, monthsToEnsure, partitionOf, shanghaiMonth } from '../../domain/order-partitions';

const shanghai = (local: string) => new Date(`${local}+08:00`);

test.each([
  ['2026-03', true],
  ['0001-01', true],
  ['9999-12', true],
  ['0000-01', false],
  ['2026-00', false],
  ['2026-13', false],
  ['2026-3', false],
  ['2026-03-01', false],
  [' 2026-03', false],
])('isMonth(%j) = %s', (value, expected) => {
  expect(isMonth(value)).toBe(expected);
});

test.each([
  ['2026-11-30T23:59:59.999', '2026-11'],
  ['2026-12-01T00:00:00', '2026-12'],
  // 1 January 00:00 in Shanghai is still 31 December in UTC.
  ['2027-01-01T00:00:00', '2027-01'],
])('the Shanghai month of %s is %s', (local, month) => {
  expect(shanghaiMonth(shanghai(local))).toBe(month);
});

test.each([
  ['2026-11', 1, '2026-12'],
  ['2026-12', 1, '2027-01'],
  ['2026-01', -1, '2025-12'],
  ['2026-10', 15, '2028-01'],
])('addMonths(%s, %i) = %s', (month, n, expected) => {
  expect(addMonths(month, n)).toBe(expected);
});

test('partitions are named by month', () => {
  expect(partitionOf('2026-03')).toBe('orders_2026_03');
  expect(() => partitionOf('2026-13')).toThrow('not a month');
});

test.each([
  [0, true],
  [3, true],
  [24, true],
  [25, false],
  [-1, false],
  [1.5, false],
  [Number.NaN, false],
])('monthsAhead %d is accepted: %s', (n, ok) => {
  expect(monthsAheadRefusal(n) === undefined).toBe(ok);
});

test('the months to make sure of run from the Shanghai month of the instant', () => {
  expect(monthsToEnsure(shanghai('2026-12-31T23:59:59.999'), 3)).toEqual({ from: '2026-12', through: '2027-03' });
  expect(monthsToEnsure(shanghai('2027-01-01T00:00:00'), 0)).toEqual({ from: '2027-01', through: '2027-01' });
  expect(() => monthsToEnsure(new Date(), 25)).toThrow('monthsAhead');
});

// March ends at 1 April 00:00 Shanghai; 6 whole months after that is 1 October 00:00.
test.each([
  ['2026-03', '2026-09-30T23:59:59.999', 6, false],
  ['2026-03', '2026-10-01T00:00:00', 6, true],
  ['2026-03', '2026-10-01T00:00:00', 7, false],
  ['2026-12', '2027-07-01T00:00:00', 6, true],
  ['2026-12', '2027-06-30T23:59:59.999', 6, false],
  ['2026-03', '2026-04-01T00:00:00', 0, false],
])('%s may be archived at %s (at least %i months): %s', (month, at, minAge, ok) => {
  expect(archiveAgeRefusal(month, shanghai(at), minAge) === undefined).toBe(ok);
});
