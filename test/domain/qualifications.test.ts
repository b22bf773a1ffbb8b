import {
  daysUntil,
  expiryNoticeKey,
  isCheckMonth,
  isQualificationDate,
  maskLicenceNumber,
  nextScheduledCheckOn,
  noticeHorizon,
  qualificationCaseReference,
  qualificationStatusOn,
  withinMaxValidity,
} from '../../domain/qualifications';

describe('a qualification on a day', () => {
  test.each([
    // expires on, today, status (the next scheduled check is 2027-01-01, 1 day after today)
    ['2027-01-31', '2026-12-31', 'valid'], // 30 days left at the next check: that check tells
    ['2027-01-30', '2026-12-31', 'expiring'], // 29 days left at the next check: told now
    ['2027-02-01', '2026-12-31', 'valid'],
    ['2026-12-31', '2026-12-31', 'expiring'], // the expiry day itself is still valid, 0 days left
    ['2026-12-30', '2026-12-31', 'expired'], // the day after expiry
    ['2024-02-29', '2024-03-01', 'expired'], // leap day
  ])('expiring on %s, seen on %s: %s', (expiresOn, today, expected) => {
    expect(qualificationStatusOn(expiresOn, today)).toBe(expected);
  });

  // A monthly check on the 1st: a licence is noticed at the last run before it would have fewer
  // than 30 days left, so the merchant is told at least 30 days ahead, never 0–30.
  test.each([
    // expires on, check day, next check, status, days left on the check day
    ['2027-01-01', '2026-12-01', '2027-01-01', 'expiring', 31], // the defect: once `valid` here, 0 days left at the next run
    ['2027-01-30', '2026-12-01', '2027-01-01', 'expiring', 60], // 29 days left at the next check
    ['2027-01-31', '2026-12-01', '2027-01-01', 'valid', 61], // 30 days left at the next check: noticed then
    ['2027-01-31', '2027-01-01', '2027-02-01', 'expiring', 30],
    ['2027-03-02', '2027-01-01', '2027-02-01', 'expiring', 60], // 29 days left on 1 February: told in January
    ['2027-03-03', '2027-01-01', '2027-02-01', 'valid', 61],
    ['2027-03-03', '2027-02-01', '2027-03-01', 'expiring', 30], // a short February still leaves 30 days
    ['2027-03-31', '2027-02-01', '2027-03-01', 'valid', 58], // 30 days left at the next check
    ['2027-03-31', '2027-03-01', '2027-04-01', 'expiring', 30],
    ['2027-01-10', '2026-12-15', '2027-01-01', 'expiring', 26], // recorded mid-month, already short: told at once
  ])('expiring %s, checked %s (next %s): %s', (expiresOn, today, nextCheck, expected, daysLeft) => {
    expect(nextScheduledCheckOn(today)).toBe(nextCheck);
    expect(daysUntil(expiresOn, today)).toBe(daysLeft);
    expect(qualificationStatusOn(expiresOn, today)).toBe(expected);
  });

  test('every expiry over two years is first noticed, on schedule, at least 30 days ahead', () => {
    const runs: string[] = [];
    for (let d = '2026-01-01'; d < '2028-12-01'; d = nextScheduledCheckOn(d)) runs.push(d);
    for (let e = Date.UTC(2026, 2, 1); e < Date.UTC(2028, 5, 1); e += 86_400_000) {
      const expiresOn = new Date(e).toISOString().slice(0, 10);
      const noticed = runs.filter((r) => qualificationStatusOn(expiresOn, r) === 'expiring');
      // The check reads rows up to the horizon: exactly the ones it calls expiring (or expired).
      for (const r of runs) expect(expiresOn <= noticeHorizon(r)).toBe(qualificationStatusOn(expiresOn, r) !== 'valid');
      expect(noticed.length).toBeGreaterThan(0);
      expect(daysUntil(expiresOn, noticed[0]!)).toBeGreaterThanOrEqual(30);
    }
  });

  test('the next scheduled check is the 1st of the next month', () => {
    expect(nextScheduledCheckOn('2026-12-01')).toBe('2027-01-01');
    expect(nextScheduledCheckOn('2026-12-31')).toBe('2027-01-01');
    expect(nextScheduledCheckOn('2027-02-28')).toBe('2027-03-01');
  });

  test('a malformed date is a programming error', () => {
    expect(() => qualificationStatusOn('2026-02-30', '2026-01-01')).toThrow(/not a real date/);
  });
});

describe('dates a qualification may carry', () => {
  test.each([
    ['2026-12-31', true],
    ['1900-01-01', true],
    ['9999-12-31', true],
    ['1899-12-31', false],
    ['0000-01-01', false], // PostgreSQL has no year 0
    ['2026-02-30', false],
  ])('%s: %s', (date, expected) => {
    expect(isQualificationDate(date)).toBe(expected);
  });

  test.each([
    ['2024-01-01', '2054-01-01', true], // 30 years exactly
    ['2024-01-01', '2054-01-02', false],
    ['2024-02-29', '2054-02-28', true], // no 29 February in 2054: the day before
    ['2024-02-29', '2054-03-01', false],
    ['2026-01-01', '9999-12-31', false],
    // Not dates: no verdict here (the dates' own checks refuse them), and never a throw.
    ['🁨⚞', '2026-01-01', true],
    ['2026-01-01', 'not a day', true],
  ])('valid from %s to %s: %s', (validFrom, expiresOn, expected) => {
    expect(withinMaxValidity(validFrom, expiresOn)).toBe(expected);
  });
});

describe('keys and references', () => {
  test('the case reference and the notice key name the shop, the kind and the expiry, not the row', () => {
    expect(qualificationCaseReference({ shopId: 'shop-m-1', kind: 'food_licence', expiresOn: '2026-12-31' })).toBe('qualification:shop-m-1:food_licence:2026-12-31');
    expect(expiryNoticeKey({ shopId: 'shop-m-1', kind: 'food_licence', expiresOn: '2026-12-31' })).toBe('qualification-expiring:shop-m-1:food_licence:2026-12-31');
  });

  test('a licence number keeps its last four characters only', () => {
    expect(maskLicenceNumber('91350100M000100Y43')).toBe('****0Y43');
    expect(maskLicenceNumber(' 9135 0100 M000 100Y 43 ')).toBe('****0Y43');
  });

  test('months', () => {
    expect(isCheckMonth('2026-12')).toBe(true);
    expect(isCheckMonth('2026-13')).toBe(false);
    expect(isCheckMonth('2026-1')).toBe(false);
  });
});
