import {
  NO_EXCESS_REASON,
  afterSalesWindowEnd,
  closureWaitUntil,
  excessPromotionWithdrawal,
  formatCny,
  ladderSchedule,
  lastNaturalMonth,
  requiredDeposit,
  restrictionsAfter,
  shortfallFen,
  type ClosureOrder,
  type PromotionWithdrawalInput,
  type RequiredDepositInput,
} from '../../domain/deposit';
import { DEFAULT_DEPOSIT_POLICY, parseDepositPolicy, type LadderStep } from '../../domain/deposit-policy';

const policy = DEFAULT_DEPOSIT_POLICY;

describe('requiredDeposit (default policy)', () => {
  const shop = (over: Partial<RequiredDepositInput>): RequiredDepositInput => ({
    shopType: 'individual',
    specialCategories: [],
    lastMonthGmvFen: 0,
    ...over,
  });

  test.each<[string, Partial<RequiredDepositInput>, [number, number, number, number]]>([
    // [base, special, tier, total] in fen
    ['individual, nothing special, no sales', {}, [50_000, 0, 0, 50_000]],
    ['enterprise, nothing special, no sales', { shopType: 'enterprise' }, [100_000, 0, 0, 100_000]],
    ['GMV 9,999,999 fen stays in tier 1', { lastMonthGmvFen: 9_999_999 }, [50_000, 0, 0, 50_000]],
    ['GMV exactly 100,000 CNY reaches tier 2', { lastMonthGmvFen: 10_000_000 }, [50_000, 0, 200_000, 250_000]],
    ['GMV 99,999,999 fen stays in tier 2', { lastMonthGmvFen: 99_999_999 }, [50_000, 0, 200_000, 250_000]],
    ['GMV exactly 1,000,000 CNY reaches tier 3', { lastMonthGmvFen: 100_000_000 }, [50_000, 0, 1_000_000, 1_050_000]],
    ['a very large GMV stays in tier 3', { lastMonthGmvFen: Number.MAX_SAFE_INTEGER }, [50_000, 0, 1_000_000, 1_050_000]],
    ['one special category', { specialCategories: ['beauty'] }, [50_000, 200_000, 0, 250_000]],
    ['both special categories', { specialCategories: ['food', 'beauty'] }, [50_000, 400_000, 0, 450_000]],
    [
      'duplicates and unknown categories are ignored',
      { specialCategories: ['food', 'toys', 'food', 'Beauty', 'books'] },
      [50_000, 200_000, 0, 250_000],
    ],
    [
      'enterprise, both categories, top tier',
      { shopType: 'enterprise', specialCategories: ['beauty', 'food'], lastMonthGmvFen: 123_456_789 },
      [100_000, 400_000, 1_000_000, 1_500_000],
    ],
  ])('%s', (_name, over, [baseFen, specialFen, gmvTierFen, totalFen]) => {
    expect(requiredDeposit(policy, shop(over))).toMatchObject({ baseFen, specialFen, gmvTierFen, totalFen });
  });

  test('names the special categories it charged for, in policy order, once each', () => {
    const result = requiredDeposit(policy, shop({ specialCategories: ['food', 'toys', 'beauty', 'food'] }));
    expect(result.specialCategoriesCounted).toEqual(['beauty', 'food']);
  });

  test('the base never falls below the minimum, even if a policy object says so', () => {
    const lax = { ...policy, baseFen: { individual: 10_000, enterprise: 100_000 } };
    expect(requiredDeposit(lax, shop({})).baseFen).toBe(50_000);
  });

  test('a configured policy is used throughout', () => {
    const custom = parseDepositPolicy(
      JSON.stringify({
        specialCategories: ['jewellery'],
        specialCategoryExtraFen: 500_000,
        gmvTiers: [
          { fromFen: 0, extraFen: 1_000 },
          { fromFen: 500, extraFen: 2_000 },
        ],
      }),
    );
    expect(
      requiredDeposit(custom, { shopType: 'individual', specialCategories: ['jewellery', 'beauty'], lastMonthGmvFen: 499 }),
    ).toEqual({ baseFen: 50_000, specialFen: 500_000, gmvTierFen: 1_000, totalFen: 551_000, specialCategoriesCounted: ['jewellery'] });
  });

  test.each([-1, 0.5, Number.NaN, 2 ** 53])('refuses GMV %p', (lastMonthGmvFen) => {
    expect(() => requiredDeposit(policy, shop({ lastMonthGmvFen }))).toThrow(/lastMonthGmvFen must be a non-negative safe integer/);
  });
});

describe('lastNaturalMonth (Asia/Shanghai)', () => {
  test.each([
    // now, month, start, end (exclusive)
    ['2026-12-01T00:30:00+08:00', '2026-11', '2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    ['2026-12-01T00:00:00.000+08:00', '2026-11', '2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    ['2026-11-30T23:59:59.999+08:00', '2026-10', '2026-09-30T16:00:00.000Z', '2026-10-31T16:00:00.000Z'],
    // 2026-11-30T16:00Z is already December in Shanghai, though still November in UTC.
    ['2026-11-30T16:00:00.000Z', '2026-11', '2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    ['2026-11-30T15:59:59.999Z', '2026-10', '2026-09-30T16:00:00.000Z', '2026-10-31T16:00:00.000Z'],
    ['2027-01-01T00:00:00+08:00', '2026-12', '2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2027-01-15T12:00:00+08:00', '2026-12', '2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026-12-31T23:59:59.999+08:00', '2026-11', '2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    ['2024-03-10T09:00:00+08:00', '2024-02', '2024-01-31T16:00:00.000Z', '2024-02-29T16:00:00.000Z'],
    ['2026-03-01T00:00:00+08:00', '2026-02', '2026-01-31T16:00:00.000Z', '2026-02-28T16:00:00.000Z'],
  ])('now %s -> %s [%s, %s)', (now, month, start, end) => {
    const result = lastNaturalMonth(new Date(now));
    expect(result.month).toBe(month);
    expect(result.start.toISOString()).toBe(start);
    expect(result.end.toISOString()).toBe(end);
  });

  test('now always lies in the month after: end <= now', () => {
    const now = new Date('2026-12-01T00:30:00+08:00');
    const { end } = lastNaturalMonth(now);
    expect(end.getTime()).toBeLessThanOrEqual(now.getTime());
    expect(now.getTime() - end.getTime()).toBe(30 * 60 * 1000);
  });

  test('refuses an invalid Date', () => {
    expect(() => lastNaturalMonth(new Date('nope'))).toThrow(/now must be a valid Date/);
  });
});

describe('ladderSchedule', () => {
  test('default ladder: each step afterDays × 24 h after the episode starts', () => {
    expect(ladderSchedule(policy, new Date('2026-11-10T09:15:00+08:00'))).toEqual([
      { step: 'notify', at: '2026-11-10T01:15:00.000Z' },
      { step: 'transfer_proceeds', at: '2026-11-10T01:15:00.000Z' },
      { step: 'close_cart', at: '2026-11-13T01:15:00.000Z' },
      { step: 'stop_listing', at: '2026-11-17T01:15:00.000Z' },
      { step: 'stop_sales', at: '2026-11-20T01:15:00.000Z' },
      { step: 'restrict_withdrawals', at: '2026-11-25T01:15:00.000Z' },
    ]);
  });

  test('crosses month and year ends by calendar days', () => {
    const schedule = ladderSchedule(policy, new Date('2026-12-20T23:00:00+08:00'));
    expect(schedule.at(-1)).toEqual({ step: 'restrict_withdrawals', at: '2027-01-04T15:00:00.000Z' });
  });

  test('a configured ladder comes out in ladder order, whatever its listing order', () => {
    const custom = parseDepositPolicy(
      JSON.stringify({
        ladder: [
          { step: 'stop_sales', afterDays: 2 },
          { step: 'notify', afterDays: 0 },
          { step: 'close_cart', afterDays: 1 },
        ],
      }),
    );
    expect(ladderSchedule(custom, new Date('2026-01-01T00:00:00Z'))).toEqual([
      { step: 'notify', at: '2026-01-01T00:00:00.000Z' },
      { step: 'close_cart', at: '2026-01-02T00:00:00.000Z' },
      { step: 'stop_sales', at: '2026-01-03T00:00:00.000Z' },
    ]);
  });

  test('refuses an invalid Date', () => {
    expect(() => ladderSchedule(policy, new Date(Number.NaN))).toThrow(/episodeStart must be a valid Date/);
  });
});

describe('restrictionsAfter', () => {
  test.each<[LadderStep[], string[]]>([
    [[], []],
    [['notify', 'transfer_proceeds'], []],
    [['notify', 'transfer_proceeds', 'close_cart'], ['close_cart']],
    [['notify', 'transfer_proceeds', 'close_cart', 'stop_listing', 'stop_sales'], ['close_cart', 'stop_listing', 'stop_sales']],
    [
      ['restrict_withdrawals', 'stop_sales', 'notify', 'close_cart', 'stop_listing', 'transfer_proceeds', 'close_cart'],
      ['close_cart', 'stop_listing', 'stop_sales', 'restrict_withdrawals'],
    ],
  ])('after %j -> %j', (done, expected) => {
    expect(restrictionsAfter(done)).toEqual(expected);
  });
});

describe('shortfallFen', () => {
  test.each([
    [0, 50_000, 50_000],
    [49_999, 50_000, 1],
    [50_000, 50_000, 0],
    [60_000, 50_000, 0],
    [-20_000, 50_000, 70_000],
    [0, 0, 0],
  ])('balance %d, required %d -> %d', (balance, required, expected) => {
    expect(shortfallFen(balance, required)).toBe(expected);
  });

  test.each<[number, number, RegExp]>([
    [0.5, 100, /balanceFen must be a safe integer/],
    [0, -1, /requiredFen must be a non-negative safe integer/],
    [0, 2 ** 53, /requiredFen/],
    [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, /shortfall/],
  ])('refuses balance %p, required %p', (balance, required, message) => {
    expect(() => shortfallFen(balance, required)).toThrow(message);
  });
});

describe('formatCny', () => {
  test.each([
    [1_234_567, '12,345.67 CNY'],
    [0, '0.00 CNY'],
    [5, '0.05 CNY'],
    [100, '1.00 CNY'],
    [99_999, '999.99 CNY'],
    [100_000, '1,000.00 CNY'],
    [100_000_000_000, '1,000,000,000.00 CNY'],
    [-1_234_567, '-12,345.67 CNY'],
    [Number.MAX_SAFE_INTEGER, '90,071,992,547,409.91 CNY'],
  ])('%d fen -> %s', (fen, text) => {
    expect(formatCny(fen)).toBe(text);
  });

  test('refuses a fraction of a fen', () => {
    expect(() => formatCny(1.5)).toThrow(/safe integer/);
  });
});

describe('excessPromotionWithdrawal ([src] conditions)', () => {
  const input = (over: Partial<PromotionWithdrawalInput>): PromotionWithdrawalInput => ({
    promotionBalanceFen: 300_000,
    highDepositCategoriesOpen: [],
    highestDepositCategory: 'beauty',
    highestDepositCategoryLastMonthSalesFen: 0,
    ...over,
  });

  test.each<[string, Partial<PromotionWithdrawalInput>, number]>([
    ['both conditions met: everything above the 500 CNY minimum', {}, 250_000],
    ['one fen above the minimum', { promotionBalanceFen: 50_001 }, 1],
    ['no high-deposit category at all', { highestDepositCategory: null }, 250_000],
  ])('allowed: %s', (_name, over, amountFen) => {
    expect(excessPromotionWithdrawal(policy, input(over))).toEqual({ allowed: true, amountFen });
  });

  test.each<[string, Partial<PromotionWithdrawalInput>, string[]]>([
    [
      'a high-deposit category still open',
      { highDepositCategoriesOpen: ['beauty'] },
      ['the high-deposit category is still open: beauty'],
    ],
    [
      'several open, listed once each',
      { highDepositCategoriesOpen: ['beauty', 'food', 'beauty'] },
      ['the high-deposit categories are still open: beauty, food'],
    ],
    [
      'the highest-deposit category sold last month',
      { highestDepositCategoryLastMonthSalesFen: 1_234_567 },
      ['the highest-deposit category (beauty) sold 12,345.67 CNY in the last natural month; it must have sold nothing'],
    ],
    [
      'a single fen of sales is enough to refuse',
      { highestDepositCategoryLastMonthSalesFen: 1 },
      ['the highest-deposit category (beauty) sold 0.01 CNY in the last natural month; it must have sold nothing'],
    ],
    ['balance exactly at the minimum', { promotionBalanceFen: 50_000 }, [NO_EXCESS_REASON]],
    ['balance below the minimum', { promotionBalanceFen: 10_000 }, [NO_EXCESS_REASON]],
    ['balance negative after deductions', { promotionBalanceFen: -10_000 }, [NO_EXCESS_REASON]],
    [
      'every condition unmet: every reason given',
      { highDepositCategoriesOpen: ['food'], highestDepositCategoryLastMonthSalesFen: 800_000, promotionBalanceFen: 0 },
      [
        'the high-deposit category is still open: food',
        'the highest-deposit category (beauty) sold 8,000.00 CNY in the last natural month; it must have sold nothing',
        NO_EXCESS_REASON,
      ],
    ],
  ])('refused: %s', (_name, over, reasons) => {
    expect(excessPromotionWithdrawal(policy, input(over))).toEqual({ allowed: false, reasons });
  });

  test('the reason for no excess is the documented sentence', () => {
    expect(NO_EXCESS_REASON).toBe('no excess: the balance is at or below the minimum');
  });

  test('uses the configured minimum', () => {
    const custom = parseDepositPolicy('{"promotionMinimumFen": 100000}');
    expect(excessPromotionWithdrawal(custom, input({}))).toEqual({ allowed: true, amountFen: 200_000 });
  });

  test.each<[string, Partial<PromotionWithdrawalInput>, RegExp]>([
    ['sales without a category', { highestDepositCategory: null, highestDepositCategoryLastMonthSalesFen: 1 }, /no such category/],
    ['negative sales', { highestDepositCategoryLastMonthSalesFen: -1 }, /highestDepositCategoryLastMonthSalesFen/],
    ['a fractional balance', { promotionBalanceFen: 100.5 }, /promotionBalanceFen/],
  ])('refuses inconsistent input: %s', (_name, over, message) => {
    expect(() => excessPromotionWithdrawal(policy, input(over))).toThrow(message);
  });
});

describe('afterSalesWindowEnd', () => {
  test('default: 7 days no-reason return plus 15 days for disputes = 22 days', () => {
    expect(afterSalesWindowEnd(policy, new Date('2026-11-20T10:00:00+08:00')).toISOString()).toBe(
      '2026-12-12T02:00:00.000Z',
    );
  });

  test('uses the configured days', () => {
    const custom = parseDepositPolicy('{"afterSales": {"returnDays": 7, "disputeDays": 0}}');
    expect(afterSalesWindowEnd(custom, new Date('2026-12-28T00:00:00Z')).toISOString()).toBe('2027-01-04T00:00:00.000Z');
  });
});

describe('closureWaitUntil', () => {
  const now = new Date('2026-12-01T12:00:00+08:00');
  const finished = (receiptConfirmedAt: string | null): ClosureOrder => ({ status: 'finished', receiptConfirmedAt });
  const open: ClosureOrder = { status: 'open', receiptConfirmedAt: null };

  test.each<[string, ClosureOrder[], number, string | null]>([
    ['no orders', [], 0, null],
    ['open orders are counted', [open, { status: 'open', receiptConfirmedAt: '2026-11-01T00:00:00+08:00' }], 2, null],
    // 2026-11-09T12:00+08:00 + 22 days = 2026-12-01T12:00+08:00, exactly now: passed.
    ['a window ending exactly now has passed', [finished('2026-11-09T12:00:00+08:00')], 0, null],
    [
      'a window ending one millisecond after now still blocks',
      [finished('2026-11-09T12:00:00.001+08:00')],
      0,
      '2026-12-01T04:00:00.001Z',
    ],
    ['a window long past', [finished('2026-10-01T00:00:00+08:00')], 0, null],
    ['a finished order without a receipt has no window', [finished(null)], 0, null],
    [
      'the latest window wins, whatever the order',
      [finished('2026-11-25T00:00:00+08:00'), finished('2026-11-28T08:00:00+08:00'), finished('2026-11-20T00:00:00Z')],
      0,
      '2026-12-20T00:00:00.000Z',
    ],
    [
      'open orders and windows together',
      [open, finished('2026-11-30T00:00:00Z'), finished('2026-10-01T00:00:00Z'), open],
      2,
      '2026-12-22T00:00:00.000Z',
    ],
  ])('%s', (_name, orders, blockedByOpenOrders, waitUntil) => {
    expect(closureWaitUntil(policy, orders, now)).toEqual({ blockedByOpenOrders, waitUntil });
  });

  test.each(['2026-11-30', 'yesterday', '2026-11-30T00:00:00', ''])('refuses receipt time %j', (receipt) => {
    expect(() => closureWaitUntil(policy, [open, finished(receipt)], now)).toThrow(
      /orders\[1\]\.receiptConfirmedAt is not an ISO timestamp/,
    );
  });
});
