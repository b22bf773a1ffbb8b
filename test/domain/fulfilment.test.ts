import {
  compensationFen,
  DEFAULT_FULFILMENT_POLICY,
  isLate,
  lateDay,
  parseFulfilmentPolicy,
  shipDeadline,
  shippingRateBp,
  trackingSilentAfter,
  warningAt,
} from '../../domain/fulfilment';

const at = (iso: string) => new Date(iso);
// Shanghai wall time (UTC+8) as an instant.
const sh = (local: string) => new Date(`${local}+08:00`);

describe('shipping deadline: 48 calendar hours, weekends and holidays included', () => {
  test.each([
    // Paid Friday 20:00 Shanghai: due Sunday 20:00, not the next working day.
    ['Friday evening, across the weekend', sh('2026-12-04T20:00:00'), null, sh('2026-12-06T20:00:00')],
    ['Saturday morning', sh('2026-12-05T09:30:00'), null, sh('2026-12-07T09:30:00')],
    // National Day week: holidays count like any other hour.
    ['1 October, a public holiday', sh('2026-10-01T00:00:00'), null, sh('2026-10-03T00:00:00')],
    ['the last millisecond of a month', at('2026-11-30T15:59:59.999Z'), null, at('2026-12-02T15:59:59.999Z')],
  ])('%s', (_name, paidAt, presale, deadline) => {
    expect(shipDeadline(paidAt, presale)).toEqual(deadline);
  });

  test.each([
    ['a pre-sale order counts from its promised date', sh('2026-12-01T10:00:00'), sh('2026-12-10T00:00:00'), sh('2026-12-12T00:00:00')],
    ['paid exactly at the promised date', sh('2026-12-10T00:00:00'), sh('2026-12-10T00:00:00'), sh('2026-12-12T00:00:00')],
    ['paid after the promised date: counts from payment', sh('2026-12-10T00:00:00.001'), sh('2026-12-10T00:00:00'), sh('2026-12-12T00:00:00.001')],
  ])('%s', (_name, paidAt, presale, deadline) => {
    expect(shipDeadline(paidAt, presale)).toEqual(deadline);
  });
});

describe('warning and lateness at their boundaries', () => {
  const paidAt = sh('2026-12-04T20:00:00');
  const deadline = shipDeadline(paidAt, null);

  test('the warning goes out 36 h after payment, 12 h before the deadline', () => {
    expect(warningAt(deadline)).toEqual(sh('2026-12-06T08:00:00'));
    expect(warningAt(deadline, { ...DEFAULT_FULFILMENT_POLICY, warnAfterHours: 24 })).toEqual(sh('2026-12-05T20:00:00'));
  });

  test.each([
    ['shipped exactly at the deadline: on time', new Date(deadline.getTime()), deadline, false],
    ['shipped 1 ms after: late', new Date(deadline.getTime() + 1), deadline, true],
    ['shipped 1 ms before: on time', new Date(deadline.getTime() - 1), deadline, false],
    ['unshipped, asked exactly at the deadline: not late yet', null, deadline, false],
    ['unshipped, 1 ms after the deadline: late', null, new Date(deadline.getTime() + 1), true],
    ['shipped on time, asked long after: on time', new Date(deadline.getTime() - 1), new Date(deadline.getTime() + 86_400_000), false],
  ])('%s', (_name, shippedAt, asOf, late) => {
    expect(isLate(deadline, shippedAt, asOf)).toBe(late);
  });

  test.each([
    // The Shanghai date of the deadline, whatever the UTC date is.
    ['23:59:59.999 Shanghai', at('2026-12-06T15:59:59.999Z'), '2026-12-06'],
    ['00:00 Shanghai the next day', at('2026-12-06T16:00:00.000Z'), '2026-12-07'],
  ])('a late shipment counts on the deadline day: %s', (_name, deadline, day) => {
    expect(lateDay(deadline)).toBe(day);
  });
});

describe('tracking silence', () => {
  const shipped = at('2026-12-01T00:00:00Z');
  test.each([
    ['no update since shipping: 72 h after shipping', null, at('2026-12-04T00:00:00Z')],
    ['last update: 72 h after it', at('2026-12-02T06:00:00Z'), at('2026-12-05T06:00:00Z')],
  ])('%s', (_name, updated, silentAt) => {
    expect(trackingSilentAfter(shipped, updated)).toEqual(silentAt);
  });
});

describe('compensation: 3% half up to the fen, at least 5 CNY, at most 50 CNY, never above the order', () => {
  test.each([
    // Below the minimum share (16,666 fen × 3% = 499.98 → 500): the minimum.
    [1, 1],
    [499, 499],
    [500, 500],
    [501, 500],
    [16_650, 500], // 499.5 → 500 (half up), the minimum anyway
    [16_683, 500], // 500.49 → 500
    [16_684, 501], // 500.52 → 501
    [16_717, 502], // 501.51 → 502
    [33_350, 1_001], // 1000.5 → 1001: exactly half rounds up
    [33_349, 1_000], // 1000.47 → 1000
    [166_666, 5_000], // 4999.98 → 5000
    [166_650, 5_000], // 4999.5 → 5000
    [166_649, 4_999], // 4999.47 → 4999
    [166_700, 5_000], // 5001 → the maximum
    [10_000_000, 5_000],
  ])('an order of %i fen gets %i fen', (amount, expected) => {
    expect(compensationFen(amount)).toBe(expected);
  });

  test('refuses an amount that is not a positive whole number of fen', () => {
    expect(() => compensationFen(0)).toThrow();
    expect(() => compensationFen(12.5)).toThrow();
  });
});

describe('shipping rate', () => {
  test.each([
    [0, 0, null],
    [1, 0, 10_000],
    [1, 1, 0],
    [3, 1, 6_666], // 66.66…% rounds down: a rate never looks better than it is
  ])('%i due, %i late: %p bp', (due, late, bp) => {
    expect(shippingRateBp(due, late)).toBe(bp);
  });
});

describe('FULFILMENT_POLICY_JSON', () => {
  test('partial JSON over the defaults', () => {
    expect(parseFulfilmentPolicy('{"warnAfterHours":40,"compensationMaxFen":8000}')).toEqual({ ...DEFAULT_FULFILMENT_POLICY, warnAfterHours: 40, compensationMaxFen: 8_000 });
  });
  test.each([
    ['the 48 hours (the platform rule)', '{"shipWithinHours":72}'],
    ['a warning at or after the deadline', '{"warnAfterHours":48}'],
    ['a minimum above the maximum', '{"compensationMinFen":6000}'],
    ['a misspelt key', '{"warnAfterHour":40}'],
    ['not an object', '[]'],
  ])('refuses %s', (_name, json) => {
    expect(() => parseFulfilmentPolicy(json)).toThrow(/invalid fulfilment policy/);
  });
});
