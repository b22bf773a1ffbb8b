import {
  CalendarYearNotLoadedError,
  createWorkingDayCalendar,
  endOfShanghaiDay,
  shanghaiDate,
  startOfShanghaiDay,
  workingDayDeadline,
  type CalendarData,
} from '../../domain/calendar';

const cal = createWorkingDayCalendar();

/** Made up for the tests: the package has no 2027 yet. 2027-01-01 is a Friday. */
const extra2027: CalendarData = {
  holidays: { '2027-01-01': "New Year's Day,元旦,1", '2027-10-01': 'National Day,国庆节,3' },
  workdays: { '2027-01-02': "New Year's Day,元旦,1" },
};

describe('isWorkingDay (chinese-days data)', () => {
  test.each([
    ['2026-09-29', true, 'ordinary Tuesday'],
    ['2026-10-01', false, 'National Day'],
    ['2026-10-07', false, 'last day of the National Day break (a Wednesday)'],
    ['2026-10-10', true, 'Saturday, adjusted working day'],
    ['2026-10-11', false, 'ordinary Sunday'],
    ['2026-09-20', true, 'Sunday, adjusted working day'],
    ['2026-09-25', false, 'Mid-autumn Festival (a Friday)'],
    ['2026-02-14', true, 'Saturday before Spring Festival, adjusted working day'],
    ['2026-02-16', false, 'Spring Festival eve (a Monday)'],
    ['2026-02-23', false, 'last day of Spring Festival break (a Monday)'],
    ['2026-02-24', true, 'first working day after Spring Festival'],
    ['2026-02-28', true, 'Saturday after Spring Festival, adjusted working day'],
    ['2026-03-07', false, 'ordinary Saturday'],
    ['2025-10-08', false, 'National Day 2025 ran to 10-08'],
    ['2024-02-29', true, 'leap day, a Thursday'],
  ])('%s -> %s (%s)', (date, expected) => {
    expect(cal.isWorkingDay(date)).toBe(expected);
  });

  test('a year the package does not cover is refused, naming the year', () => {
    expect(() => cal.isWorkingDay('2027-03-01')).toThrow(CalendarYearNotLoadedError);
    try {
      cal.isWorkingDay('2027-03-01');
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(CalendarYearNotLoadedError);
      expect((error as CalendarYearNotLoadedError).year).toBe(2027);
      expect((error as Error).message).toBe(
        'the working-day calendar has no data for 2027; load it (CALENDAR_EXTRA_PATH) before computing dates in that year',
      );
    }
    expect(() => cal.isWorkingDay('2003-06-02')).toThrow(CalendarYearNotLoadedError);
  });

  test.each(['2026-02-30', '2026-2-3', '2026/02/03', '', '2026-13-01', '2026-02-03T00:00:00Z'])(
    'malformed date %j is a plain Error',
    (date) => {
      expect(() => cal.isWorkingDay(date)).toThrow(/not a real date in YYYY-MM-DD form/);
      expect(() => cal.isWorkingDay(date)).not.toThrow(CalendarYearNotLoadedError);
    },
  );
});

describe('addWorkingDays', () => {
  test.each([
    ['2026-09-29', 1, '2026-09-30'],
    ['2026-09-29', 2, '2026-10-08'],
    ['2026-09-29', 4, '2026-10-10'],
    ['2026-09-29', 5, '2026-10-12'],
    ['2026-10-03', 3, '2026-10-10'],
    ['2026-02-12', 1, '2026-02-13'],
    ['2026-02-13', 1, '2026-02-14'],
    ['2026-02-13', 2, '2026-02-24'],
    ['2026-02-14', 5, '2026-02-28'],
    ['2026-12-30', 1, '2026-12-31'],
    ['2025-12-31', 1, '2026-01-04'], // 01-01..01-03 off, Sunday 01-04 adjusted working day
    ['2026-01-04', 1, '2026-01-05'],
  ])('%s + %i working days = %s', (from, n, expected) => {
    expect(cal.addWorkingDays(from, n)).toBe(expected);
  });

  test('counting into an unloaded year throws instead of guessing', () => {
    expect(() => cal.addWorkingDays('2026-12-30', 2)).toThrow(CalendarYearNotLoadedError);
  });

  test.each([0, -1, 1.5, Number.NaN])('n = %p is refused', (n) => {
    expect(() => cal.addWorkingDays('2026-09-29', n)).toThrow(/positive integer/);
  });
});

describe('loaded years', () => {
  test('the package covers 2004 to 2026 and nothing else', () => {
    const years = cal.loadedYears();
    expect(years[0]).toBe(2004);
    expect(years.at(-1)).toBe(2026);
    expect(years).toHaveLength(23);
    expect(cal.covers('2026-12-31')).toBe(true);
    expect(cal.covers('2027-01-01')).toBe(false);
  });

  test('extra data makes its year loaded and is used for that year', () => {
    const withExtra = createWorkingDayCalendar(extra2027);
    expect(withExtra.loadedYears().at(-1)).toBe(2027);
    expect(withExtra.covers('2027-06-01')).toBe(true);
    expect(withExtra.isWorkingDay('2027-01-01')).toBe(false); // holiday on a Friday
    expect(withExtra.isWorkingDay('2027-01-02')).toBe(true); // adjusted Saturday
    expect(withExtra.isWorkingDay('2027-01-03')).toBe(false); // plain Sunday
    expect(withExtra.addWorkingDays('2026-12-31', 1)).toBe('2027-01-02');
    expect(cal.covers('2027-06-01')).toBe(false); // the default calendar is untouched
  });

  test('extra data wins per date over the package', () => {
    const corrected = createWorkingDayCalendar({
      holidays: { '2026-10-10': 'correction' },
      workdays: { '2026-10-01': 'correction' },
    });
    expect(corrected.isWorkingDay('2026-10-10')).toBe(false);
    expect(corrected.isWorkingDay('2026-10-01')).toBe(true);
    expect(corrected.isWorkingDay('2026-10-02')).toBe(false);
  });

  test('a year with only adjusted weekends is not loaded', () => {
    const partial = createWorkingDayCalendar({ holidays: {}, workdays: { '2027-01-02': 'x' } });
    expect(partial.covers('2027-01-02')).toBe(false);
  });

  test('a malformed date in extra data is refused', () => {
    expect(() => createWorkingDayCalendar({ holidays: { '2027-02-29': 'x' }, workdays: {} })).toThrow(
      /not a real date/,
    );
  });
});

describe('Asia/Shanghai day boundaries', () => {
  test.each([
    ['2026-09-29T02:00:00Z', '2026-09-29'],
    ['2026-09-28T15:59:59.999Z', '2026-09-28'],
    ['2026-09-28T16:00:00Z', '2026-09-29'],
    ['2026-12-31T16:00:00Z', '2027-01-01'],
    ['2024-02-28T16:30:00Z', '2024-02-29'],
  ])('%s is %s in Shanghai', (instant, expected) => {
    expect(shanghaiDate(new Date(instant))).toBe(expected);
  });

  test('start and end of a Shanghai day in UTC', () => {
    expect(startOfShanghaiDay('2026-10-12').toISOString()).toBe('2026-10-11T16:00:00.000Z');
    expect(endOfShanghaiDay('2026-10-12').toISOString()).toBe('2026-10-12T15:59:59.999Z');
    expect(endOfShanghaiDay('2026-01-01').toISOString()).toBe('2026-01-01T15:59:59.999Z');
  });

  test('an invalid Date is refused', () => {
    expect(() => shanghaiDate(new Date('nope'))).toThrow(/valid Date/);
  });
});

describe('workingDayDeadline', () => {
  test('enterprise case on 2026-09-29 10:00 Shanghai: 5 working days across National Day', () => {
    // Counted days: 09-30, 10-08, 10-09, 10-10 (adjusted Saturday), 10-12.
    const deadline = workingDayDeadline(new Date('2026-09-29T02:00:00Z'), 5, cal);
    expect(deadline.toISOString()).toBe('2026-10-12T15:59:59.999Z');
  });

  test('the hour of submission does not matter, only its Shanghai date', () => {
    const early = workingDayDeadline(new Date('2026-09-28T16:00:00Z'), 5, cal); // 00:00 on 09-29
    const late = workingDayDeadline(new Date('2026-09-29T15:59:59Z'), 5, cal); // 23:59 on 09-29
    expect(early.toISOString()).toBe('2026-10-12T15:59:59.999Z');
    expect(late.toISOString()).toBe('2026-10-12T15:59:59.999Z');
    // 23:59 UTC on 09-28 is already 07:59 on 09-29 in Shanghai.
    expect(workingDayDeadline(new Date('2026-09-28T23:59:00Z'), 5, cal).toISOString()).toBe(
      '2026-10-12T15:59:59.999Z',
    );
  });

  test('individual case submitted on a Saturday starts counting on Monday', () => {
    // 2026-03-07 is a plain Saturday: 03-09, 03-10, 03-11.
    const deadline = workingDayDeadline(new Date('2026-03-07T04:00:00Z'), 3, cal);
    expect(deadline.toISOString()).toBe('2026-03-11T15:59:59.999Z');
  });

  test('a case submitted on National Day counts from the first day after the break', () => {
    // 10-08, 10-09, 10-10 (adjusted Saturday).
    const deadline = workingDayDeadline(new Date('2026-10-01T01:00:00Z'), 3, cal);
    expect(deadline.toISOString()).toBe('2026-10-10T15:59:59.999Z');
  });

  test('Spring Festival 2026: adjusted Saturdays 02-14 and 02-28 count, the break does not', () => {
    // From Friday 02-13: 02-14 (Sat, adjusted), then 02-15..02-23 off, 02-24, 02-25.
    expect(workingDayDeadline(new Date('2026-02-13T02:00:00Z'), 3, cal).toISOString()).toBe(
      '2026-02-25T15:59:59.999Z',
    );
    // From Wednesday 02-25: 02-26, 02-27, 02-28 (Sat, adjusted), 03-02, 03-03.
    expect(workingDayDeadline(new Date('2026-02-25T02:00:00Z'), 5, cal).toISOString()).toBe(
      '2026-03-03T15:59:59.999Z',
    );
  });

  test('a deadline reaching into 2027 needs 2027 data', () => {
    const submittedAt = new Date('2026-12-29T02:00:00Z');
    expect(() => workingDayDeadline(submittedAt, 5, cal)).toThrow(CalendarYearNotLoadedError);
    const withExtra = createWorkingDayCalendar(extra2027);
    // 12-30, 12-31, (01-01 holiday) 01-02 adjusted Saturday, (01-03 Sunday) 01-04, 01-05.
    expect(workingDayDeadline(submittedAt, 5, withExtra).toISOString()).toBe(
      '2027-01-05T15:59:59.999Z',
    );
  });
});
