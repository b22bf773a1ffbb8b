import {
  DEFAULT_DEPOSIT_POLICY,
  LADDER_STEPS,
  RESTRICTIONS,
  depositPolicySchema,
  parseDepositPolicy,
  type DepositPolicy,
} from '../../domain/deposit-policy';

/** The message parseDepositPolicy throws for a partial, or undefined when it parses. */
function errorOf(partial: unknown): string | undefined {
  try {
    parseDepositPolicy(JSON.stringify(partial));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('DEFAULT_DEPOSIT_POLICY (docs/rules.md §2)', () => {
  test('states the numbers of docs/rules.md in fen', () => {
    const { ladder, ...amounts } = DEFAULT_DEPOSIT_POLICY;
    expect(amounts).toEqual({
      baseFen: { individual: 50_000, enterprise: 100_000 },
      minimumBaseFen: 50_000,
      specialCategories: ['beauty', 'food'],
      specialCategoryExtraFen: 200_000,
      gmvTiers: [
        { fromFen: 0, extraFen: 0 },
        { fromFen: 10_000_000, extraFen: 200_000 },
        { fromFen: 100_000_000, extraFen: 1_000_000 },
      ],
      promotionMinimumFen: 50_000,
      afterSales: { returnDays: 7, disputeDays: 15 },
    });
    // "notify and take available proceeds at once; close the cart after 3 days; stop listing
    // after 7; stop sales after 10; restrict withdrawals and other functions after 15"
    expect(ladder.map(({ step, afterDays }) => [step, afterDays])).toEqual([['notify', 0], ['transfer_proceeds', 0], ['close_cart', 3], ['stop_listing', 7], ['stop_sales', 10], ['restrict_withdrawals', 15]]);
  });

  test('passes its own schema', () => {
    expect(depositPolicySchema.parse(DEFAULT_DEPOSIT_POLICY)).toEqual(DEFAULT_DEPOSIT_POLICY);
  });

  test('the ladder covers every step, and the restrictions are its last four', () => {
    expect(DEFAULT_DEPOSIT_POLICY.ladder.map((e) => e.step)).toEqual([...LADDER_STEPS]);
    expect([...RESTRICTIONS]).toEqual(LADDER_STEPS.slice(2));
  });
});

describe('parseDepositPolicy: partial JSON over the defaults', () => {
  test('an empty object is the defaults', () => {
    expect(parseDepositPolicy('{}')).toEqual(DEFAULT_DEPOSIT_POLICY);
  });

  test('top-level keys replace the defaults, the rest stay', () => {
    const policy = parseDepositPolicy(
      JSON.stringify({ baseFen: { individual: 80_000, enterprise: 150_000 }, specialCategories: ['jewellery'] }),
    );
    expect(policy).toEqual<DepositPolicy>({
      ...DEFAULT_DEPOSIT_POLICY,
      baseFen: { individual: 80_000, enterprise: 150_000 },
      specialCategories: ['jewellery'],
    });
  });

  test('a nested object is replaced whole, not merged', () => {
    expect(errorOf({ baseFen: { individual: 80_000 } })).toMatch(/baseFen\.enterprise/);
  });

  test('the ladder may list its steps in any order and leave some out', () => {
    const ladder = [
      { step: 'close_cart', afterDays: 5 },
      { step: 'notify', afterDays: 1 },
    ];
    expect(parseDepositPolicy(JSON.stringify({ ladder })).ladder).toEqual(ladder);
  });

  test('a lower minimum admits a lower base', () => {
    const policy = parseDepositPolicy(JSON.stringify({ minimumBaseFen: 10_000, baseFen: { individual: 10_000, enterprise: 100_000 } }));
    expect(policy.baseFen.individual).toBe(10_000);
  });

  test('category names are trimmed', () => {
    expect(parseDepositPolicy('{"specialCategories":[" beauty "]}').specialCategories).toEqual(['beauty']);
  });

  test('the defaults are not mutated by a parse', () => {
    parseDepositPolicy(JSON.stringify({ gmvTiers: [{ fromFen: 0, extraFen: 1 }] }));
    expect(DEFAULT_DEPOSIT_POLICY.gmvTiers).toHaveLength(3);
  });

  test.each([
    ['not JSON', '{baseFen:', /invalid deposit policy: not valid JSON/],
    ['an array', '[]', /invalid deposit policy: expected a JSON object/],
    ['null', 'null', /invalid deposit policy: expected a JSON object/],
    ['a number', '5', /invalid deposit policy: expected a JSON object/],
  ])('refuses %s', (_name, json, message) => {
    expect(() => parseDepositPolicy(json)).toThrow(message);
  });

  test.each<[string, unknown, RegExp]>([
    ['a negative base', { baseFen: { individual: -1, enterprise: 100_000 } }, /^ {2}baseFen\.individual: /m],
    ['a fractional fen amount', { specialCategoryExtraFen: 0.5 }, /^ {2}specialCategoryExtraFen: /m],
    ['an unsafe integer', { promotionMinimumFen: 2 ** 53 }, /^ {2}promotionMinimumFen: /m],
    ['fen as a string', { minimumBaseFen: '50000' }, /^ {2}minimumBaseFen: /m],
    [
      'a base below the minimum',
      { minimumBaseFen: 60_000 },
      /^ {2}baseFen\.individual: must be at least minimumBaseFen \(60000\)$/m,
    ],
    ['a misspelt top-level key', { promotionMinimumFenn: 1 }, /promotionMinimumFenn/],
    ['an unknown nested key', { afterSales: { returnDays: 7, disputeDays: 15, extra: 1 } }, /extra/],
    ['a blank category', { specialCategories: ['beauty', '  '] }, /^ {2}specialCategories\.1: must not be blank$/m],
    [
      'a category listed twice',
      { specialCategories: ['food', 'food'] },
      /^ {2}specialCategories\.1: food is listed more than once$/m,
    ],
    ['no GMV tiers', { gmvTiers: [] }, /^ {2}gmvTiers: /m],
    [
      'a first tier above 0',
      { gmvTiers: [{ fromFen: 1, extraFen: 0 }] },
      /^ {2}gmvTiers\.0\.fromFen: the first tier must start at 0$/m,
    ],
    [
      'tiers out of order',
      {
        gmvTiers: [
          { fromFen: 0, extraFen: 0 },
          { fromFen: 100, extraFen: 1 },
          { fromFen: 100, extraFen: 2 },
        ],
      },
      /^ {2}gmvTiers\.2\.fromFen: tiers must be strictly ascending by fromFen$/m,
    ],
    ['an unknown ladder step', { ladder: [{ step: 'ban_shop', afterDays: 1 }] }, /^ {2}ladder\.0\.step: /m],
    [
      'a ladder step listed twice',
      {
        ladder: [
          { step: 'notify', afterDays: 0 },
          { step: 'notify', afterDays: 1 },
        ],
      },
      /^ {2}ladder\.1\.step: notify is listed more than once$/m,
    ],
    [
      'a later step before an earlier one',
      {
        ladder: [
          { step: 'stop_sales', afterDays: 5 },
          { step: 'stop_listing', afterDays: 7 },
        ],
      },
      /^ {2}ladder\.0\.afterDays: stop_sales must not come before stop_listing \(7 days\)$/m,
    ],
    ['fractional days', { afterSales: { returnDays: 7.5, disputeDays: 15 } }, /^ {2}afterSales\.returnDays: /m],
    ['negative days', { ladder: [{ step: 'notify', afterDays: -1 }] }, /^ {2}ladder\.0\.afterDays: /m],
    ['null for a key', { afterSales: null }, /^ {2}afterSales: /m],
  ])('refuses %s, naming the field', (_name, partial, message) => {
    const error = errorOf(partial);
    expect(error).toMatch(/^invalid deposit policy:\n/);
    expect(error).toMatch(message);
  });

  test('lists every bad field at once', () => {
    const error = errorOf({ minimumBaseFen: 200_000, specialCategoryExtraFen: -5, afterSales: { returnDays: 7 } });
    expect(error?.split('\n').slice(1).map((line) => line.trim().split(':')[0])).toEqual(
      expect.arrayContaining(['specialCategoryExtraFen', 'afterSales.disputeDays']),
    );
  });

  test('cross-field rules name both base fields when both are too low', () => {
    const error = errorOf({ minimumBaseFen: 200_000 });
    expect(error).toMatch(/^ {2}baseFen\.individual: must be at least minimumBaseFen \(200000\)$/m);
    expect(error).toMatch(/^ {2}baseFen\.enterprise: must be at least minimumBaseFen \(200000\)$/m);
  });
});
