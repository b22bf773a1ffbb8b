import {
  DEFAULT_FEE_RATES,
  DEFAULT_SETTLEMENT_THRESHOLDS,
  MissingFeeRateError,
  computeStatement,
  forfeitureRepaidFen,
  lineNetFen,
  STATEMENT_FIGURES,
  feeOf,
  lineFees,
  periodBounds,
  periodNotEndedUntil,
  periodOf,
  rateFor,
  settlementPeriod,
  settlementPeriodProblem,
  FIRST_SETTLEMENT_PERIOD,
  totalLineFees,
  type FeeRate,
  type SettlementLine,
  type ComputedStatement,
  type StatementInput,
} from '../../domain/settlement';

/** Reference rounding in BigInt: half-up, half away from zero for negatives. */
function referenceFee(amountFen: number, bp: number): number {
  const abs = BigInt(Math.abs(amountFen));
  const rounded = Number((abs * BigInt(bp) + 5_000n) / 10_000n);
  return amountFen < 0 ? 0 - rounded : rounded;
}

describe('DEFAULT_FEE_RATES ([src] seed table)', () => {
  test.each([
    ['apparel', 1_000, 300, 1_300],
    ['beauty', 1_500, 400, 1_900],
    ['digital', 800, 200, 1_000],
  ])('%s: union %i bp + channel %i bp = %i bp', (category, unionFeeBp, channelShareBp, combined) => {
    expect(rateFor(DEFAULT_FEE_RATES, category, '2024-06-15')).toEqual({
      category,
      unionFeeBp,
      channelShareBp,
      effectiveFrom: '2020-01-01',
    });
    expect(unionFeeBp + channelShareBp).toBe(combined);
  });
});

describe('rateFor', () => {
  const rates: FeeRate[] = [
    { category: 'apparel', unionFeeBp: 1_200, channelShareBp: 300, effectiveFrom: '2024-03-01' },
    { category: 'apparel', unionFeeBp: 1_000, channelShareBp: 300, effectiveFrom: '2020-01-01' },
    { category: 'apparel', unionFeeBp: 900, channelShareBp: 500, effectiveFrom: '2025-01-01' },
    { category: 'beauty', unionFeeBp: 1_500, channelShareBp: 400, effectiveFrom: '2020-01-01' },
  ];

  test.each([
    ['the day a version starts', '2020-01-01', 1_000],
    ['the day before the next version', '2024-02-29', 1_000],
    ['the first day of the next version', '2024-03-01', 1_200],
    ['between versions (list not sorted)', '2024-12-31', 1_200],
    ['after the latest version', '2030-07-01', 900],
  ])('picks the latest version on or before the date: %s', (_name, onDate, unionFeeBp) => {
    expect(rateFor(rates, 'apparel', onDate).unionFeeBp).toBe(unionFeeBp);
  });

  test.each([
    ['a category with no rate at all', 'toys', '2024-06-01'],
    ['a date before the first version', 'apparel', '2019-12-31'],
    ['a category spelt differently', 'Apparel', '2024-06-01'],
  ])('throws MissingFeeRateError for %s, never a zero fee', (_name, category, onDate) => {
    let caught: unknown;
    try {
      rateFor(rates, category, onDate);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MissingFeeRateError);
    expect(caught).toMatchObject({ name: 'MissingFeeRateError', category, onDate });
    expect((caught as Error).message).toContain(`no fee rate for category "${category}" effective on ${onDate}`);
  });

  test('refuses two versions of a category from the same day as ambiguous', () => {
    const twice = [...rates, { category: 'beauty', unionFeeBp: 1_600, channelShareBp: 400, effectiveFrom: '2020-01-01' }];
    expect(() => rateFor(twice, 'beauty', '2024-01-01')).toThrow(/two fee rates for "beauty" are effective from 2020-01-01/);
  });

  test.each<[string, Partial<FeeRate>, RegExp]>([
    ['a malformed effectiveFrom', { effectiveFrom: '2020-1-1' }, /not a real date/],
    ['a fractional rate', { unionFeeBp: 10.5 }, /apparel unionFeeBp must be a whole number of basis points/],
    ['a rate above 100%', { channelShareBp: 10_001 }, /apparel channelShareBp must be a whole number/],
    ['a negative rate', { unionFeeBp: -1 }, /apparel unionFeeBp must be a whole number/],
  ])('refuses %s', (_name, over, message) => {
    const bad = [{ ...DEFAULT_FEE_RATES[0], ...over }];
    expect(() => rateFor(bad, 'apparel', '2024-01-01')).toThrow(message);
  });

  test.each(['2024-02-30', '2024-06', '20240601', ''])('refuses onDate %p', (onDate) => {
    expect(() => rateFor(DEFAULT_FEE_RATES, 'apparel', onDate)).toThrow(/not a real date in YYYY-MM-DD form/);
  });
});

describe('feeOf (half-up to the fen, integer arithmetic)', () => {
  test.each([
    // amountFen, bp, fee
    // The seed rates on one 100 CNY order: 13%, 19% and 10% combined.
    [10_000, 1_000, 1_000],
    [10_000, 300, 300],
    [10_000, 1_500, 1_500],
    [10_000, 400, 400],
    [10_000, 800, 800],
    [10_000, 200, 200],
    // Exactly half a fen rounds up, not to even.
    [5, 1_000, 1], // 0.5
    [15, 1_000, 2], // 1.5
    [25, 1_000, 3], // 2.5 (banker's rounding would give 2)
    [1, 5_000, 1], // 0.5
    [50, 100, 1], // 0.5
    // Just below and above half.
    [4, 1_000, 0], // 0.4
    [1, 4_999, 0], // 0.4999
    [6, 1_000, 1], // 0.6
    [333, 300, 10], // 9.99
    [12_345, 1_300, 1_605], // 1604.85
    [12_345, 1_900, 2_346], // 2345.55
    // Edges.
    [0, 1_500, 0],
    [9_999, 0, 0],
    [9_999, 10_000, 9_999],
    // Large amounts stay exact.
    [1_000_000_000_000, 2_000, 200_000_000_000],
    [1_000_000_000_001, 1_500, 150_000_000_000], // …000.15
    [999_999_999_999, 1_500, 150_000_000_000], // 149,999,999,999.85
    [999_999_999_995, 1, 100_000_000], // 99,999,999.9995
    [1_000_000_000_000, 9_000, 900_000_000_000],
  ])('feeOf(%i, %i) = %i', (amountFen, bp, fee) => {
    expect(feeOf(amountFen, bp)).toBe(fee);
    expect(feeOf(amountFen, bp)).toBe(referenceFee(amountFen, bp));
  });

  test.each([
    // Negative amounts round half away from zero, mirroring the positive ones.
    [-5, 1_000, -1],
    [-15, 1_000, -2],
    [-25, 1_000, -3],
    [-6, 1_000, -1],
    [-12_345, 1_300, -1_605],
  ])('feeOf(%i, %i) = %i (symmetric)', (amountFen, bp, fee) => {
    expect(feeOf(amountFen, bp)).toBe(fee);
    expect(feeOf(amountFen, bp)).toBe(-feeOf(-amountFen, bp));
  });

  test('a zero fee on a negative amount is +0, not -0', () => {
    expect(Object.is(feeOf(-4, 1_000), 0)).toBe(true);
  });

  test('agrees with a BigInt reference across amounts and rates', () => {
    const amounts = [1, 7, 49, 50, 51, 99, 4_999, 5_000, 5_001, 123_456_789, 987_654_321_123, 4_000_000_000_001];
    const bps = [1, 2, 3, 7, 199, 200, 300, 333, 1_000, 1_300, 1_999, 2_000];
    for (const amount of amounts) {
      for (const bp of bps) {
        expect([amount, bp, feeOf(amount, bp)]).toEqual([amount, bp, referenceFee(amount, bp)]);
        expect([-amount, bp, feeOf(-amount, bp)]).toEqual([-amount, bp, referenceFee(-amount, bp)]);
      }
    }
  });

  test.each([
    [10_000_000_000_000, 1_000], // 10^16
    [1_000_000_000_000, 9_008], // 9.008 × 10^15
    [-1_000_000_000_000, 10_000],
    [Number.MAX_SAFE_INTEGER, 1],
  ])('throws rather than lose exactness: feeOf(%i, %i)', (amountFen, bp) => {
    expect(() => feeOf(amountFen, bp)).toThrow(/exceeds 2\^53 and would not be exact/);
  });

  test.each([
    [0.5, 1_000, /amountFen must be a safe integer/],
    [Number.NaN, 1_000, /amountFen must be a safe integer/],
    [2 ** 53, 0, /amountFen must be a safe integer/],
    [100, 12.5, /bp must be a whole number of basis points/],
    [100, -1, /bp must be a whole number/],
    [100, 10_001, /bp must be a whole number/],
  ])('refuses feeOf(%p, %p)', (amountFen, bp, message) => {
    expect(() => feeOf(amountFen, bp)).toThrow(message);
  });
});

describe('lineFees', () => {
  const line = (over: Partial<SettlementLine>): SettlementLine => ({
    amountFen: 10_000,
    category: 'apparel',
    receiptConfirmedAt: '2024-06-15T10:00:00+08:00',
    ...over,
  });

  test.each([
    ['apparel (13%)', 'apparel', 1_000, 300],
    ['beauty (19%)', 'beauty', 1_500, 400],
    ['digital (10%)', 'digital', 800, 200],
  ])('a 100 CNY %s line', (_name, category, unionFeeFen, channelFeeFen) => {
    expect(lineFees(line({ category }), DEFAULT_FEE_RATES)).toEqual({ unionFeeFen, channelFeeFen });
  });

  test('rounds each fee half-up on its own', () => {
    // 12,345 fen beauty: union 1,851.75 -> 1,852; channel 493.8 -> 494.
    expect(lineFees(line({ amountFen: 12_345, category: 'beauty' }), DEFAULT_FEE_RATES)).toEqual({
      unionFeeFen: 1_852,
      channelFeeFen: 494,
    });
  });

  describe('uses the rate in force on the Shanghai date of receipt', () => {
    const rates: FeeRate[] = [
      ...DEFAULT_FEE_RATES,
      { category: 'apparel', unionFeeBp: 1_200, channelShareBp: 500, effectiveFrom: '2024-03-01' },
    ];
    test.each([
      ['23:59:59 Shanghai on the day before', '2024-02-29T23:59:59+08:00', 1_000, 300],
      ['00:00:00 Shanghai on the first day (still 29 Feb in UTC)', '2024-02-29T16:00:00Z', 1_200, 500],
      ['15:59:59Z on 29 Feb is 23:59:59 in Shanghai', '2024-02-29T15:59:59.999Z', 1_000, 300],
      ['later', '2024-07-01T09:00:00+08:00', 1_200, 500],
    ])('%s', (_name, receiptConfirmedAt, unionFeeFen, channelFeeFen) => {
      expect(lineFees(line({ receiptConfirmedAt }), rates)).toEqual({ unionFeeFen, channelFeeFen });
    });
  });

  test('a category without a rate stops the statement with MissingFeeRateError', () => {
    const toys = line({ category: 'toys', receiptConfirmedAt: '2024-05-31T20:00:00Z' });
    expect(() => lineFees(toys, DEFAULT_FEE_RATES)).toThrow(MissingFeeRateError);
    // The error names the Shanghai date of receipt (20:00Z is 04:00 the next day in Shanghai).
    expect(() => lineFees(toys, DEFAULT_FEE_RATES)).toThrow(/"toys" effective on 2024-06-01/);
  });

  test.each(['2024-06-15', '2024-06-15T10:00:00', 'yesterday', '2024-06-15T25:00:00Z'])(
    'refuses receiptConfirmedAt %p (a timestamp with its offset is required)',
    (receiptConfirmedAt) => {
      expect(() => lineFees(line({ receiptConfirmedAt }), DEFAULT_FEE_RATES)).toThrow(/receiptConfirmedAt is not an ISO timestamp/);
    },
  );

  test.each([-1, 0.5, Number.NaN])('refuses amount %p', (amountFen) => {
    expect(() => lineFees(line({ amountFen }), DEFAULT_FEE_RATES)).toThrow(/amountFen must be a non-negative safe integer/);
  });
});

describe('totalLineFees ([default] rounded per line, then summed)', () => {
  const at = '2024-06-15T10:00:00+08:00';

  test('sums per-line rounded fees, which may differ from rounding the total', () => {
    // Three 5-fen apparel lines: union 0.5 -> 1 each = 3 (rounding the 15-fen total gives 2);
    // channel 0.15 -> 0 each = 0.
    const lines = [5, 5, 5].map((amountFen) => ({ amountFen, category: 'apparel', receiptConfirmedAt: at }));
    expect(totalLineFees(lines, DEFAULT_FEE_RATES)).toEqual({ gmvFen: 15, unionFeeFen: 3, channelFeeFen: 0 });
    expect(feeOf(15, 1_000)).toBe(2);
  });

  test('mixes categories', () => {
    const lines = [
      { amountFen: 10_000, category: 'apparel', receiptConfirmedAt: at },
      { amountFen: 10_000, category: 'beauty', receiptConfirmedAt: at },
      { amountFen: 10_000, category: 'digital', receiptConfirmedAt: at },
    ];
    expect(totalLineFees(lines, DEFAULT_FEE_RATES)).toEqual({ gmvFen: 30_000, unionFeeFen: 3_300, channelFeeFen: 900 });
  });

  test('no lines, no fees', () => {
    expect(totalLineFees([], DEFAULT_FEE_RATES)).toEqual({ gmvFen: 0, unionFeeFen: 0, channelFeeFen: 0 });
  });

  test('one line without a rate stops the whole total', () => {
    const lines = [
      { amountFen: 10_000, category: 'apparel', receiptConfirmedAt: at },
      { amountFen: 10_000, category: 'toys', receiptConfirmedAt: at },
    ];
    expect(() => totalLineFees(lines, DEFAULT_FEE_RATES)).toThrow(MissingFeeRateError);
  });
});

describe('settlement periods (Asia/Shanghai)', () => {
  test.each([
    ['the 20th, mid-month', '2024-03-20T10:00:00+08:00', '2024-02', '2024-01-31T16:00:00.000Z', '2024-02-29T16:00:00.000Z'],
    ['January settles the previous December', '2025-01-20T02:00:00+08:00', '2024-12', '2024-11-30T16:00:00.000Z', '2024-12-31T16:00:00.000Z'],
    ['00:30 Shanghai on 1 March (still February in UTC)', '2024-02-29T16:30:00Z', '2024-02', '2024-01-31T16:00:00.000Z', '2024-02-29T16:00:00.000Z'],
    ['23:59:59 Shanghai on 29 February', '2024-02-29T23:59:59+08:00', '2024-01', '2023-12-31T16:00:00.000Z', '2024-01-31T16:00:00.000Z'],
  ])('settlementPeriod: %s', (_name, runAt, period, start, end) => {
    const result = settlementPeriod(new Date(runAt));
    expect({ period: result.period, start: result.start.toISOString(), end: result.end.toISOString() }).toEqual({
      period,
      start,
      end,
    });
  });

  test('settlementPeriod refuses an invalid Date', () => {
    expect(() => settlementPeriod(new Date('nope'))).toThrow(/must be a valid Date/);
  });

  test.each([
    ['2024-02', '2024-01-31T16:00:00.000Z', '2024-02-29T16:00:00.000Z'],
    ['2023-02', '2023-01-31T16:00:00.000Z', '2023-02-28T16:00:00.000Z'],
    ['2024-12', '2024-11-30T16:00:00.000Z', '2024-12-31T16:00:00.000Z'],
    ['2025-01', '2024-12-31T16:00:00.000Z', '2025-01-31T16:00:00.000Z'],
  ])('periodBounds(%s)', (period, start, end) => {
    const bounds = periodBounds(period);
    expect([bounds.start.toISOString(), bounds.end.toISOString()]).toEqual([start, end]);
  });

  test.each(['2024-13', '2024-00', '2024-1', '24-01', '2024-01-01', '2024/01', ''])('periodBounds refuses %p', (period) => {
    expect(() => periodBounds(period)).toThrow(/not a settlement period in YYYY-MM form/);
  });

  test('periodBounds agrees with settlementPeriod', () => {
    const { period, start, end } = settlementPeriod(new Date('2024-03-20T10:00:00+08:00'));
    expect(periodBounds(period)).toEqual({ start, end });
  });

  test.each([
    ['23:59:59 Shanghai on the last day belongs to that month', '2024-01-31T23:59:59+08:00', '2024-01'],
    ['…and so does its last millisecond', '2024-01-31T15:59:59.999Z', '2024-01'],
    ['00:00:00 Shanghai on the 1st belongs to the next month', '2024-02-01T00:00:00+08:00', '2024-02'],
    ['the same instant in UTC', '2024-01-31T16:00:00Z', '2024-02'],
    ['year end, last second', '2024-12-31T23:59:59+08:00', '2024-12'],
    ['new year, first second', '2025-01-01T00:00:00+08:00', '2025-01'],
  ])('periodOf: %s', (_name, instant, period) => {
    const at = new Date(instant);
    expect(periodOf(at)).toBe(period);
    // The same answer as the half-open bounds of the period.
    const { start, end } = periodBounds(period);
    expect(start.getTime() <= at.getTime() && at.getTime() < end.getTime()).toBe(true);
  });

  test('periodOf refuses an invalid Date', () => {
    expect(() => periodOf(new Date('nope'))).toThrow(/valid Date/);
  });
});

describe('computeStatement', () => {
  const input = (over: Partial<StatementInput>): StatementInput => ({
    gmvFen: 0,
    unionFeeFen: 0,
    channelFeeFen: 0,
    refundsFen: 0,
    carriedInFen: 0,
    flagged: false,
    ...over,
  });

  /** One period's sales with 13,000 fen of fees (the fees are given as summed per line, not derived from gmvFen). */
  const period = (gmvFen: number): Partial<StatementInput> => ({
    gmvFen,
    unionFeeFen: 10_000,
    channelFeeFen: 3_000,
  });

  type Expected = Pick<ComputedStatement, 'periodNetFen' | 'forfeitedFen' | 'netFen' | 'payoutFen' | 'carriedOutFen'>;

  test.each<[string, Partial<StatementInput>, Expected]>([
    [
      'sales less both fees, paid out',
      period(50_000),
      { periodNetFen: 37_000, forfeitedFen: 0, netFen: 37_000, payoutFen: 37_000, carriedOutFen: 0 },
    ],
    [
      'exactly at the 100 CNY threshold: paid',
      period(23_000),
      { periodNetFen: 10_000, forfeitedFen: 0, netFen: 10_000, payoutFen: 10_000, carriedOutFen: 0 },
    ],
    [
      'one fen below the threshold: carried',
      period(22_999),
      { periodNetFen: 9_999, forfeitedFen: 0, netFen: 9_999, payoutFen: 0, carriedOutFen: 9_999 },
    ],
    [
      'a positive carry lifts the net over the threshold',
      { ...period(20_000), carriedInFen: 3_000 },
      { periodNetFen: 7_000, forfeitedFen: 0, netFen: 10_000, payoutFen: 10_000, carriedOutFen: 0 },
    ],
    [
      'a negative carry is netted first, the rest is still below threshold',
      { ...period(25_000), carriedInFen: -5_000 },
      { periodNetFen: 12_000, forfeitedFen: 0, netFen: 7_000, payoutFen: 0, carriedOutFen: 7_000 },
    ],
    [
      'a negative carry larger than the period: still negative, carried',
      { ...period(25_000), carriedInFen: -20_000 },
      { periodNetFen: 12_000, forfeitedFen: 0, netFen: -8_000, payoutFen: 0, carriedOutFen: -8_000 },
    ],
    [
      'a negative carry paid off, the rest paid out',
      { ...period(63_000), carriedInFen: -20_000 },
      { periodNetFen: 50_000, forfeitedFen: 0, netFen: 30_000, payoutFen: 30_000, carriedOutFen: 0 },
    ],
    [
      'fees above the sales: the period itself is negative, carried',
      period(5_000),
      { periodNetFen: -8_000, forfeitedFen: 0, netFen: -8_000, payoutFen: 0, carriedOutFen: -8_000 },
    ],
    [
      'forfeited: the period is lost, nothing else',
      { ...period(50_000), flagged: true },
      { periodNetFen: 37_000, forfeitedFen: 37_000, netFen: 0, payoutFen: 0, carriedOutFen: 0 },
    ],
    [
      'forfeited with a positive carry below threshold: the carry stays, carried on',
      { ...period(50_000), carriedInFen: 8_000, flagged: true },
      { periodNetFen: 37_000, forfeitedFen: 37_000, netFen: 8_000, payoutFen: 0, carriedOutFen: 8_000 },
    ],
    [
      'forfeited with a positive carry at threshold: the carry is paid',
      { ...period(50_000), carriedInFen: 15_000, flagged: true },
      { periodNetFen: 37_000, forfeitedFen: 37_000, netFen: 15_000, payoutFen: 15_000, carriedOutFen: 0 },
    ],
    [
      'forfeited with a negative period: nothing to forfeit, the fees stay owed',
      { ...period(5_000), flagged: true },
      { periodNetFen: -8_000, forfeitedFen: 0, netFen: -8_000, payoutFen: 0, carriedOutFen: -8_000 },
    ],
    [
      'forfeited with refunds of settled lines: the refunds are still taken back',
      { ...period(50_000), refundsFen: 4_000, carriedInFen: 1_000, flagged: true },
      { periodNetFen: 37_000, forfeitedFen: 37_000, netFen: -3_000, payoutFen: 0, carriedOutFen: -3_000 },
    ],
    [
      'a refund of a settled line is a negative line',
      { ...period(50_000), refundsFen: 7_000 },
      { periodNetFen: 37_000, forfeitedFen: 0, netFen: 30_000, payoutFen: 30_000, carriedOutFen: 0 },
    ],
    [
      'only a refund, no sales: negative, carried',
      { refundsFen: 12_000 },
      { periodNetFen: 0, forfeitedFen: 0, netFen: -12_000, payoutFen: 0, carriedOutFen: -12_000 },
    ],
    [
      'nothing at all',
      {},
      { periodNetFen: 0, forfeitedFen: 0, netFen: 0, payoutFen: 0, carriedOutFen: 0 },
    ],
  ])('%s', (_name, over, expected) => {
    const statement = computeStatement(input(over));
    expect(statement).toMatchObject(expected);
    expect(statement.payoutFen + statement.carriedOutFen).toBe(statement.netFen);
    expect(statement.thresholdFen).toBe(10_000);
  });

  test('echoes its inputs so the statement shows every line', () => {
    const given = input({ ...period(50_000), refundsFen: 2_000, carriedInFen: -1_000 });
    expect(computeStatement(given)).toEqual({
      kind: 'monthly',
      gmvFen: 50_000,
      unionFeeFen: 10_000,
      channelFeeFen: 3_000,
      periodNetFen: 37_000,
      forfeitedFen: 0,
      refundsFen: 2_000,
      carriedInFen: -1_000,
      netFen: 34_000,
      thresholdFen: 10_000,
      payoutFen: 34_000,
      carriedOutFen: 0,
      owedFen: 0,
    });
  });

  test.each<[string, Partial<StatementInput>, Pick<ComputedStatement, 'netFen' | 'payoutFen' | 'carriedOutFen' | 'owedFen'>]>([
    ['a positive net below the threshold is paid', { ...period(14_000) }, { netFen: 1_000, payoutFen: 1_000, carriedOutFen: 0, owedFen: 0 }],
    ['a negative net is owed, not carried', { ...period(14_000), refundsFen: 3_000 }, { netFen: -2_000, payoutFen: 0, carriedOutFen: 0, owedFen: 2_000 }],
    ['a negative carry in is owed', { carriedInFen: -500 }, { netFen: -500, payoutFen: 0, carriedOutFen: 0, owedFen: 500 }],
    ['nothing at all', {}, { netFen: 0, payoutFen: 0, carriedOutFen: 0, owedFen: 0 }],
  ])('final statement: %s', (_name, over, expected) => {
    const statement = computeStatement(input({ ...over, kind: 'final' }));
    expect(statement).toMatchObject({ ...expected, kind: 'final', thresholdFen: 0 });
    expect(statement.payoutFen + statement.carriedOutFen - statement.owedFen).toBe(statement.netFen);
  });

  test('every stored figure is named once, as its statements column', () => {
    const statement = computeStatement(input({ ...period(50_000) }));
    expect(STATEMENT_FIGURES.every((figure) => typeof statement[figure] === 'number')).toBe(true);
    expect(new Set(STATEMENT_FIGURES).size).toBe(STATEMENT_FIGURES.length);
  });

  test('the default thresholds are 100 CNY each', () => {
    expect(DEFAULT_SETTLEMENT_THRESHOLDS).toEqual({ unionFen: 10_000, shopFen: 10_000 });
  });

  test.each([
    // [union, shop, net, payout, carry]: both thresholds must be met, so the higher applies.
    [10_000, 20_000, 15_000, 0, 15_000],
    [20_000, 10_000, 15_000, 0, 15_000],
    [10_000, 20_000, 20_000, 20_000, 0],
    [5_000, 5_000, 5_000, 5_000, 0],
    [5_000, 5_000, 4_999, 0, 4_999],
    // A zero threshold pays any positive net, but never a negative one.
    [0, 0, 1, 1, 0],
    [0, 0, -1, 0, -1],
    [0, 0, 0, 0, 0],
  ])('thresholds union %i, shop %i: net %i -> payout %i, carry %i', (unionFen, shopFen, net, payoutFen, carriedOutFen) => {
    const statement = computeStatement(input({ carriedInFen: net }), { unionFen, shopFen });
    expect(statement).toMatchObject({ thresholdFen: Math.max(unionFen, shopFen), payoutFen, carriedOutFen });
  });

  test('month after month: a refund after settlement makes the next statement negative, carried until repaid', () => {
    // January: 50,000 of sales, fees 13,000: 37,000 paid out.
    const january = computeStatement(input({ ...period(50_000) }));
    expect(january).toMatchObject({ payoutFen: 37_000, carriedOutFen: 0 });

    // February: the January order is refunded; its 37,000 comes back as a negative line.
    // February's own sales net 3,700, so the statement is negative and carried.
    const february = computeStatement(
      input({
        gmvFen: 5_000,
        unionFeeFen: 1_000,
        channelFeeFen: 300,
        refundsFen: 37_000,
        carriedInFen: january.carriedOutFen,
      }),
    );
    expect(february).toMatchObject({ periodNetFen: 3_700, netFen: -33_300, payoutFen: 0, carriedOutFen: -33_300 });

    // March: 50,000 net of fees clears the debt; 16,700 is left and paid.
    const march = computeStatement(input({ ...period(63_000), carriedInFen: february.carriedOutFen }));
    expect(march).toMatchObject({ periodNetFen: 50_000, netFen: 16_700, payoutFen: 16_700, carriedOutFen: 0 });

    // Over the three months the merchant received exactly what it earned less what came back.
    const paid = january.payoutFen + february.payoutFen + march.payoutFen;
    expect(paid).toBe(37_000 + 3_700 + 50_000 - 37_000);
  });

  test('small months accumulate until the threshold is reached', () => {
    let carried = 0;
    const payouts: number[] = [];
    for (const gmvFen of [4_000, 4_000, 4_000]) {
      const s = computeStatement(input({ gmvFen, carriedInFen: carried }));
      payouts.push(s.payoutFen);
      carried = s.carriedOutFen;
    }
    expect(payouts).toEqual([0, 0, 12_000]);
    expect(carried).toBe(0);
  });

  test.each<[string, Partial<StatementInput>, RegExp]>([
    ['a fractional union fee', { unionFeeFen: 0.5 }, /unionFeeFen must be a non-negative safe integer/],
    ['a negative channel fee', { channelFeeFen: -1 }, /channelFeeFen must be a non-negative/],
    ['a negative refund (refunds are given as positive amounts)', { refundsFen: -100 }, /refundsFen must be a non-negative/],
    ['a negative GMV', { gmvFen: -1 }, /gmvFen must be a non-negative/],
    ['a fractional carry', { carriedInFen: 1.5 }, /carriedInFen must be a safe integer/],
    ['an unsafe carry', { carriedInFen: 2 ** 53 }, /carriedInFen must be a safe integer/],
    [
      'a net beyond 2^53',
      { gmvFen: Number.MAX_SAFE_INTEGER, carriedInFen: 1 },
      /netFen must be a safe integer/,
    ],
    [
      'a period net below -2^53',
      { unionFeeFen: Number.MAX_SAFE_INTEGER, channelFeeFen: 1 },
      /periodNetFen must be a safe integer/,
    ],
  ])('refuses %s', (_name, over, message) => {
    expect(() => computeStatement(input(over))).toThrow(message);
  });

  test.each([
    [{ unionFen: -1, shopFen: 10_000 }, /thresholds.unionFen must be a non-negative/],
    [{ unionFen: 10_000, shopFen: 0.5 }, /thresholds.shopFen must be a non-negative/],
  ])('refuses thresholds %p', (thresholds, message) => {
    expect(() => computeStatement(input({}), thresholds)).toThrow(message);
  });
});

describe('lineNetFen and forfeitureRepaidFen', () => {
  test('a line nets its amount less both fees, each rounded half-up', () => {
    // beauty 15% + 4% of 12,345: 1,851.75 → 1,852 and 493.8 → 494.
    expect(lineNetFen({ amountFen: 12_345, category: 'beauty', receiptConfirmedAt: '2026-03-01T10:00:00+08:00' }, DEFAULT_FEE_RATES)).toBe(12_345 - 1_852 - 494);
  });

  test.each([
    [37_000, 0, 37_000],
    [37_000, 10_000, 27_000],
    [37_000, 37_000, 0],
    [37_000, 37_001, 0],
    [0, 5_000, 0],
  ])('forfeited %i, forfeited lines refunded %i: %i paid back', (forfeitedFen, refundedFen, repaid) => {
    expect(forfeitureRepaidFen(forfeitedFen, refundedFen)).toBe(repaid);
  });
});

describe('which periods can be settled', () => {
  // 10:00 on 15 December 2026, Shanghai time.
  const now = new Date('2026-12-15T10:00:00+08:00');
  test.each([
    ['the first period', FIRST_SETTLEMENT_PERIOD],
    ['the current month', '2026-12'],
    ['last month', '2026-11'],
  ])('%s is accepted', (_name, period) => {
    expect(settlementPeriodProblem(period, now)).toBeUndefined();
  });

  test.each([
    ['year 0', '0000-01', /2020-01 or later/],
    ['the month before the first', '2019-12', /2020-01 or later/],
    ['next month', '2027-01', /not be after the current month \(2026-12\)/],
    ['the far future', '9999-12', /not be after the current month/],
    ['month 13', '2026-13', /YYYY-MM/],
    ['month 00', '2026-00', /YYYY-MM/],
    ['a date', '2026-12-01', /YYYY-MM/],
  ])('%s (%s) is refused', (_name, period, problem) => {
    expect(settlementPeriodProblem(period, now)).toMatch(problem);
  });

  test('the current month is Shanghai\'s: 00:00 on the 1st there is still the 31st in UTC', () => {
    const firstOfJanuary = new Date('2027-01-01T00:00:00+08:00');
    expect(settlementPeriodProblem('2027-01', firstOfJanuary)).toBeUndefined();
    expect(settlementPeriodProblem('2027-01', new Date(firstOfJanuary.getTime() - 1))).toMatch(/current month \(2026-12\)/);
  });
});

describe('a run settles only ended periods', () => {
  const shanghai = (local: string) => new Date(`${local}+08:00`);
  test.each([
    ['the last second of the period itself', '2026-12', shanghai('2026-12-31T23:59:59.999'), '2027-01-01'],
    ['the first instant of the period', '2026-12', shanghai('2026-12-01T00:00:00'), '2027-01-01'],
    ['a later month', '2027-03', shanghai('2026-12-15T10:00:00'), '2027-04-01'],
    ['December of year 9999', '9999-12', shanghai('2026-12-15T10:00:00'), '10000-01-01'],
    ['December 31 16:00 UTC is already January 1 in Shanghai, January has not ended', '2027-01', new Date('2026-12-31T16:00:00Z'), '2027-02-01'],
  ])('not yet: %s (%s) may run from %s', (_name, period, now, earliest) => {
    expect(periodNotEndedUntil(period, now)).toBe(earliest);
  });

  test.each([
    ['00:00 Shanghai on the 1st of the next month', '2026-12', shanghai('2027-01-01T00:00:00')],
    ['long after', '2020-01', shanghai('2026-12-15T10:00:00')],
    ['December 31 16:00 UTC: December has ended in Shanghai', '2026-12', new Date('2026-12-31T16:00:00Z')],
  ])('ended: %s (%s)', (_name, period, now) => {
    expect(periodNotEndedUntil(period, now)).toBeUndefined();
  });
});
