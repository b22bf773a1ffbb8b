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
    ['general while a general is in effect', 'general', ['general'], 2, { level: 'serious', escalatedBecause: 'repeat_in_effect', points: 0 }],
    ['general while a serious is in effect', 'general', ['serious'], 0, { level: 'serious', escalatedBecause: 'repeat_in_effect', points: 0 }],
    ['serious while only a general is in effect', 'serious', ['general'], 0, { level: 'serious', escalatedBecause: null, points: 0 }],
    ['serious while a serious is in effect', 'serious', ['serious', 'general'], 0, { level: 'especially_serious', escalatedBecause: 'repeat_in_effect', points: 0 }],
    ['especially serious stays at the top', 'especially_serious', ['especially_serious'], 0, { level: 'especially_serious', escalatedBecause: 'repeat_in_effect', points: 0 }],
    ['general at 8 points: 10, still general', 'general', [], 8, { level: 'general', escalatedBecause: null, points: 2 }],
    ['general at 10 points: 12 in the year count as a serious one', 'general', [], 10, { level: 'serious', escalatedBecause: 'year_points', points: 2 }],
    ['general at 11 points also crosses 12', 'general', [], 11, { level: 'serious', escalatedBecause: 'year_points', points: 2 }],
    ['general past 12 already: crossing happens once', 'general', [], 12, { level: 'general', escalatedBecause: null, points: 2 }],
  ])('%s', (_name, reported, inEffect, points, expected) => {
    expect(decideLevel(reported, inEffect, points)).toEqual(expected);
  });

  test('unknown levels and negative points are refused', () => {
    expect(() => decideLevel('minor' as ViolationLevel, [], 0)).toThrow(/unknown violation level/);
    expect(() => decideLevel('general', [], -2)).toThrow(/points/);
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
