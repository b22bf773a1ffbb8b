import { createWorkingDayCalendar } from '../../domain/calendar';
import {
  appealDeadline,
  checkAppealReviewer,
  checkAppealTime,
  decideLevel,
  DEFAULT_VIOLATION_POLICY,
  effectEndsAt,
  nextLevel,
  penaltyFor,
  pointsInNaturalYear,
  type CaseOnRecord,
  type ViolationLevel,
} from '../../domain/violations';
import { TEST_CALENDAR_EXTRA } from '../support/calendar';

const calendar = createWorkingDayCalendar(TEST_CALENDAR_EXTRA);
const at = (iso: string) => new Date(iso);

describe('violation levels', () => {
  test.each<[ViolationLevel, ViolationLevel]>([
    ['general', 'serious'],
    ['serious', 'especially_serious'],
    ['especially_serious', 'especially_serious'],
  ])('one level up from %s is %s', (from, to) => {
    expect(nextLevel(from)).toBe(to);
  });

  test.each<[string, ViolationLevel, ViolationLevel[], number, ReturnType<typeof decideLevel>]>([
    ['a first general case', 'general', [], 0, { level: 'general', escalatedBecause: null, points: 2 }],
    // A general case escalated as a repeat still carries its points.
    ['general while a general is in effect', 'general', ['general'], 2, { level: 'serious', escalatedBecause: 'repeat_in_effect', points: 2 }],
    ['general while a serious is in effect', 'general', ['serious'], 0, { level: 'serious', escalatedBecause: 'repeat_in_effect', points: 2 }],
    ['a repeat that also reaches 12 stands one level up, not two', 'general', ['serious'], 10, { level: 'serious', escalatedBecause: 'repeat_in_effect', points: 2 }],
    ['serious while only a general is in effect', 'serious', ['general'], 0, { level: 'serious', escalatedBecause: null, points: 0 }],
    ['serious while a serious is in effect', 'serious', ['serious', 'general'], 0, { level: 'especially_serious', escalatedBecause: 'repeat_in_effect', points: 0 }],
    ['especially serious stays at the top', 'especially_serious', ['especially_serious'], 0, { level: 'especially_serious', escalatedBecause: 'repeat_in_effect', points: 0 }],
    ['general at 8 points: 10, still general', 'general', [], 8, { level: 'general', escalatedBecause: null, points: 2 }],
    ['general at 10 points: 12 in the year count as a serious one', 'general', [], 10, { level: 'serious', escalatedBecause: 'year_points', points: 2 }],
    ['general at 11 points also crosses 12', 'general', [], 11, { level: 'serious', escalatedBecause: 'year_points', points: 2 }],
    ['general past 12 already: crossing happens once', 'general', [], 12, { level: 'general', escalatedBecause: null, points: 2 }],
    ['a serious case carries no points', 'serious', [], 10, { level: 'serious', escalatedBecause: null, points: 0 }],
  ])('%s', (_name, reported, inEffect, points, expected) => {
    expect(decideLevel(reported, inEffect, points)).toEqual(expected);
  });

  // Each multiple of 12 reached in a natural year counts as one serious violation: 12, 24, 36…
  // `total` is the year's points once this general case (2 points) is counted.
  test.each<[number, number, ViolationLevel]>([
    [9, 11, 'general'],
    [10, 12, 'serious'],
    [11, 13, 'serious'],
    [12, 14, 'general'],
    [21, 23, 'general'],
    [22, 24, 'serious'],
    [23, 25, 'serious'],
    [24, 26, 'general'],
    [34, 36, 'serious'],
  ])('a general case at %i points brings the year to %i: %s', (before, total, level) => {
    expect(before + DEFAULT_VIOLATION_POLICY.generalPoints).toBe(total);
    expect(decideLevel('general', [], before)).toEqual({ level, escalatedBecause: level === 'serious' ? 'year_points' : null, points: 2 });
  });

  test('unknown levels and negative points are refused', () => {
    expect(() => decideLevel('minor' as ViolationLevel, [], 0)).toThrow(/unknown violation level/);
    expect(() => decideLevel('general', [], -2)).toThrow(/points/);
  });
});

describe('points in the natural year (Asia/Shanghai)', () => {
  // Five general cases in 2026 (10 points), one of them reversed on appeal and one from 2025.
  const onRecord: CaseOnRecord[] = [
    { openedAt: at('2025-12-31T15:59:59.999Z'), points: 2, reversed: false }, // 23:59:59.999 on 31 Dec 2025 in Shanghai
    { openedAt: at('2025-12-31T16:00:00.000Z'), points: 2, reversed: false }, // 00:00 on 1 Jan 2026 in Shanghai
    { openedAt: at('2026-03-01T02:00:00Z'), points: 2, reversed: false },
    { openedAt: at('2026-06-01T02:00:00Z'), points: 2, reversed: true },
    { openedAt: at('2026-09-01T02:00:00Z'), points: 2, reversed: false },
    { openedAt: at('2026-12-31T15:00:00Z'), points: 2, reversed: false },
    { openedAt: at('2026-12-31T15:59:59.999Z'), points: 2, reversed: false },
  ];

  test.each<[string, string, number, ViolationLevel]>([
    ['the last millisecond of 2026 in Shanghai: 10 points, and this case reaches 12', '2026-12-31T15:59:59.999Z', 10, 'serious'],
    ['the first millisecond of 2027 in Shanghai: a new year, no points', '2026-12-31T16:00:00.000Z', 0, 'general'],
    ['early on 31 December: the cases opened later that day do not count yet', '2026-12-31T14:00:00Z', 6, 'general'],
    ['the first millisecond of 2026: the case opened then counts, 2025\'s does not', '2025-12-31T16:00:00.000Z', 2, 'general'],
  ])('%s', (_name, asOf, points, level) => {
    expect(pointsInNaturalYear(onRecord, at(asOf))).toBe(points);
    expect(decideLevel('general', [], pointsInNaturalYear(onRecord, at(asOf))).level).toBe(level);
  });
});

describe('penalties', () => {
  const openedAt = at('2026-11-02T02:00:00Z');
  test.each([
    ['general other', 'general', 'other', { points: 2, delistProducts: true, fineFen: 0, suspendSalesUntil: null, restrictionsForEffect: [], permanentRestrictions: [], startClosure: false, forfeitUnsettledCommission: false }],
    ['serious other', 'serious', 'other', { points: 0, delistProducts: false, fineFen: 200_000, suspendSalesUntil: '2026-11-09T02:00:00.000Z', restrictionsForEffect: [], permanentRestrictions: [], startClosure: false, forfeitUnsettledCommission: false }],
    ['especially serious other', 'especially_serious', 'other', { points: 0, delistProducts: false, fineFen: 0, suspendSalesUntil: null, restrictionsForEffect: [], permanentRestrictions: [], startClosure: true, forfeitUnsettledCommission: false }],
    ['general price violation', 'general', 'price_violation', { restrictionsForEffect: ['bar_big_promotions'] }],
    ['serious qualification mismatch', 'serious', 'qualification_mismatch', { permanentRestrictions: ['disable_api'], fineFen: 200_000 }],
    ['general false advertising', 'general', 'false_advertising', { forfeitUnsettledCommission: true, points: 2 }],
  ] as const)('%s', (_name, level, type, expected) => {
    const decision = decideLevel(level, [], 0);
    expect(penaltyFor(decision, type, openedAt)).toMatchObject(expected);
  });

  test('an unknown type is refused', () => {
    expect(() => penaltyFor(decideLevel('general', [], 0), 'spam' as never, openedAt)).toThrow(/unknown violation type/);
  });
});

describe('appeal windows and effect periods', () => {
  test.each([
    // Opened Friday afternoon: 7 working days are the next Monday to the Tuesday after.
    ['general, opened on a Friday', 'general', '2026-11-06T07:00:00Z', '2026-11-17T15:59:59.999Z'],
    // 3 working days across New Year's Day (a holiday) and a weekend.
    ['serious, opened on 30 December', 'serious', '2026-12-30T02:00:00Z', '2027-01-05T15:59:59.999Z'],
    // National Day: 1–7 October off; 8, 9 and 10 October (a Saturday made a working day) count.
    ['serious, opened the day before National Day', 'serious', '2026-09-30T02:00:00Z', '2026-10-10T15:59:59.999Z'],
    ['especially serious: no appeal', 'especially_serious', '2026-11-06T07:00:00Z', null],
  ] as const)('%s', (_name, level, opened, deadline) => {
    expect(appealDeadline(level, at(opened), calendar)).toBe(deadline);
  });

  test.each([
    ['general', '2026-11-02T02:00:00Z', '2026-12-02T02:00:00.000Z'],
    ['serious', '2026-11-02T02:00:00Z', '2027-05-01T02:00:00.000Z'],
    ['especially_serious', '2026-11-02T02:00:00Z', null],
  ] as const)('%s takes effect until %s', (level, opened, ends) => {
    expect(effectEndsAt(level, at(opened), DEFAULT_VIOLATION_POLICY)).toBe(ends);
  });

  test.each([
    ['on the deadline itself', '2027-01-05T15:59:59.999Z', '2027-01-05T15:59:59.999Z', { accepted: true }],
    ['a millisecond late', '2027-01-05T15:59:59.999Z', '2027-01-05T16:00:00.000Z', { accepted: false, reason: 'the appeal window closed at 2027-01-05T15:59:59.999Z' }],
    ['no window at all', null, '2026-01-01T00:00:00.000Z', { accepted: false, reason: 'an especially serious violation cannot be appealed' }],
  ] as const)('an appeal %s', (_name, deadline, filedAt, expected) => {
    expect(checkAppealTime(deadline, at(filedAt))).toEqual(expected);
  });

  test('the reviewer who opened a case cannot decide its appeal', () => {
    expect(checkAppealReviewer('olga', 'olga')).toEqual({ accepted: false, reason: 'the reviewer who opened the case cannot decide its appeal' });
    expect(checkAppealReviewer('olga', 'rui')).toEqual({ accepted: true });
  });
});
