import { createWorkingDayCalendar, planWorkingDayDeadline, CalendarYearNotLoadedError } from '../../domain/calendar';
import { festivalsOffOnWorkingDays, provisionalYear } from '../../domain/provisional-calendar';

/*
 * Known 2027 dates: Spring Festival is 6 Feb (eve 5 Feb), Qingming 5 Apr, Dragon Boat 9 Jun,
 * Mid-Autumn 15 Sep. The provisional calendar puts every statutory holiday on its own date
 * (the State Council's adjusted weekends are unknown until it publishes).
 */
describe('provisionalYear(2027)', () => {
  const y2027 = provisionalYear(2027);

  test('lists exactly the statutory holidays on their dates, and no adjusted working days', () => {
    expect(Object.keys(y2027.holidays).sort()).toEqual([
      '2027-01-01',
      '2027-02-05',
      '2027-02-06',
      '2027-02-07',
      '2027-02-08',
      '2027-04-05',
      '2027-05-01',
      '2027-06-09',
      '2027-09-15',
      '2027-10-01',
      '2027-10-02',
      '2027-10-03',
    ]);
    expect(y2027.workdays).toEqual({});
  });

  test.each([
    [2026, ['2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19'], '2026-04-05', '2026-06-19', '2026-09-25'],
    [2028, ['2028-01-25', '2028-01-26', '2028-01-27', '2028-01-28'], '2028-04-04', '2028-05-28', '2028-10-03'],
  ])('lunar and solar-term holidays of %i', (year, spring, qingming, dragonBoat, midAutumn) => {
    const days = Object.keys(provisionalYear(year).holidays);
    expect(days).toEqual(expect.arrayContaining([...spring, qingming, dragonBoat, midAutumn]));
  });

  test('a year whose twelfth lunar month has 29 days: eve is the 29th (2027-02-05 is 腊月廿九)', () => {
    expect(y2027.holidays['2027-02-05']).toMatch(/Spring Festival eve/);
  });
});

describe('a calendar with provisional years', () => {
  const cal = createWorkingDayCalendar(undefined, { provisional: provisionalYear });

  test.each([
    ['2027-01-01', false, 'New Year (a Friday)'],
    ['2027-01-04', true, 'Monday after'],
    ['2027-02-05', false, 'Spring Festival eve (a Friday)'],
    ['2027-02-08', false, '3rd day (a Monday)'],
    ['2027-02-09', true, '4th day: no official extension known'],
    ['2027-04-05', false, 'Qingming (a Monday)'],
    ['2027-06-09', false, 'Dragon Boat (a Wednesday)'],
    ['2027-09-15', false, 'Mid-Autumn (a Wednesday)'],
    ['2027-10-04', true, 'a Monday after 1–3 Oct'],
    ['2027-02-20', false, 'a Saturday: no adjusted working day known'],
  ])('%s working: %s (%s)', (date, expected) => {
    expect(cal.isWorkingDay(date)).toBe(expected);
    expect(cal.isProvisional(date)).toBe(true);
  });

  test('official years are not provisional, and a year before the data is still refused', () => {
    expect(cal.isProvisional('2026-12-31')).toBe(false);
    expect(() => cal.isWorkingDay('2003-06-02')).toThrow(CalendarYearNotLoadedError);
    expect(cal.loadedYears()).not.toContain(2027);
  });

  test.each([
    // Serious case (3 working days) opened Wed 30 Dec 2026: 31 Dec, 4 Jan, 5 Jan 2027.
    ['2026-12-30T02:00:00.000Z', 3, '2027-01-05T15:59:59.999Z', true],
    // Ending on the last official day: nothing provisional was counted.
    ['2026-12-28T02:00:00.000Z', 3, '2026-12-31T15:59:59.999Z', false],
    // General case (7 working days) opened Mon 28 Dec 2026.
    ['2026-12-28T02:00:00.000Z', 7, '2027-01-07T15:59:59.999Z', true],
  ])('deadline from %s + %i working days = %s, provisional %s', (at, n, deadline, provisional) => {
    const planned = planWorkingDayDeadline(new Date(at), n, cal);
    expect(planned).toEqual({ deadline: new Date(deadline), provisional });
  });

  test('official data for the year replaces the provisional one, with its own days off', () => {
    const official = createWorkingDayCalendar(
      { holidays: { '2027-01-01': 'New Year', '2027-01-04': 'made up: a day off' }, workdays: {} },
      { provisional: provisionalYear },
    );
    expect(official.isProvisional('2027-01-05')).toBe(false);
    expect(planWorkingDayDeadline(new Date('2026-12-30T02:00:00.000Z'), 3, official)).toEqual({
      deadline: new Date('2027-01-06T15:59:59.999Z'),
      provisional: false,
    });
  });
});

test('every Spring Festival, Qingming, Dragon Boat and Mid-Autumn computed for 2008–2026 is a day off in the official data', () => {
  const official = createWorkingDayCalendar();
  const years = official.loadedYears().filter((y) => y >= 2008);
  expect(years).toHaveLength(19);
  expect(festivalsOffOnWorkingDays((d) => official.isWorkingDay(d), years)).toEqual([]);
});
