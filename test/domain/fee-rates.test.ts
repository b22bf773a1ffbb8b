import { effectiveFromProblem, rateProblem } from '../../domain/fee-rates';

// 2026-12-07 10:00 in Shanghai; a year ahead (366 days) is 2027-12-08.
const NOW = new Date('2026-12-07T02:00:00Z');
// 23:30 on 2026-12-07 in UTC is already 2026-12-08 in Shanghai: the bound moves with Shanghai's day.
const LATE_UTC = new Date('2026-12-07T23:30:00Z');

describe('effectiveFromProblem: a real Shanghai day from the first period to a year ahead', () => {
  test.each([
    ['2020-01-01', NOW, undefined],
    ['2019-12-31', NOW, 'must be on or after 2020-01-01'],
    ['2027-12-08', NOW, undefined],
    ['2027-12-09', NOW, 'must be at most 366 days ahead (on or before 2027-12-08, Asia/Shanghai)'],
    ['2027-12-09', LATE_UTC, undefined],
    ['2027-12-10', LATE_UTC, 'must be at most 366 days ahead (on or before 2027-12-09, Asia/Shanghai)'],
    ['2024-02-29', NOW, undefined],
    ['2026-02-29', NOW, 'must be a real day as YYYY-MM-DD (Asia/Shanghai)'],
    ['2026-1-01', NOW, 'must be a real day as YYYY-MM-DD (Asia/Shanghai)'],
  ])('%s at %s: %s', (day, now, problem) => {
    expect(effectiveFromProblem(day, now)).toBe(problem);
  });
});

describe('rateProblem: the two parts together at most 100%', () => {
  test.each([
    [10_000, 0, undefined],
    [0, 10_000, undefined],
    [9_999, 1, undefined],
    [9_999, 2, 'unionFeeBp + channelShareBp must be at most 10000 (100%)'],
  ])('%i + %i: %s', (union, channel, problem) => {
    expect(rateProblem(union, channel)).toBe(problem);
  });
});
