import type { Knex } from 'knex';
import {
  ACCOUNT_KINDS,
  InsufficientBalanceError,
  LedgerKeyConflictError,
  LedgerValidationError,
  checkInvariants,
  createLedger,
  deduction,
  forfeiture,
  proceedsTransfer,
  refund,
  reversal,
  topUp,
  validateEntries,
  type Entry,
  type Ledger,
  type PostInput,
} from '../../db/repositories/ledger';
import { createTestDb, type TestDb } from '../support/db';

async function addShop(db: Knex, shopId: string): Promise<void> {
  const merchantId = `m-${shopId}`;
  await db('merchants').insert({ id: merchantId, entity_type: 'individual', legal_name: `Merchant of ${shopId}` });
  await db('shops').insert({ id: shopId, merchant_id: merchantId, shop_type: 'individual', opened_by_case_id: `vc-${shopId}` });
}

const sum = (entries: Entry[]) => entries.reduce((s, e) => s + e.amountFen, 0);

const movement = (shopId: string, key: string, kind: PostInput['kind'], entries: Entry[], extra: Partial<PostInput> = {}): PostInput => ({
  idempotencyKey: key,
  shopId,
  kind,
  reason: `test ${kind}`,
  actor: 'ops:olga',
  entries,
  ...extra,
});

/** Inserts a movement the way a careless script would: straight into the tables, no repository. */
async function rawPost(db: Knex, shopId: string, key: string, entries: Array<[account: string, fen: number]>): Promise<void> {
  await db.transaction(async (trx) => {
    const [{ id }] = await trx('ledger_transactions')
      .insert({ idempotency_key: key, shop_id: shopId, kind: 'top_up', reason: 'raw', actor: 'script' })
      .returning('id');
    if (entries.length > 0) {
      await trx('ledger_entries').insert(entries.map(([account, fen]) => ({ transaction_id: id, account_id: account, amount_fen: fen })));
    }
  });
}

describe('movement builders', () => {
  test.each([
    ['top-up of the deposit', topUp('deposit', 50_000), [{ account: 'deposit', amountFen: 50_000 }, { account: 'merchant_payments', amountFen: -50_000 }]],
    ['top-up of the promotion deposit', topUp('promotion_deposit', 50_000), [{ account: 'promotion_deposit', amountFen: 50_000 }, { account: 'merchant_payments', amountFen: -50_000 }]],
    ['deduction', deduction('deposit', 20_000), [{ account: 'deposit', amountFen: -20_000 }, { account: 'platform_income', amountFen: 20_000 }]],
    ['proceeds transfer', proceedsTransfer(7_001), [{ account: 'deposit', amountFen: 7_001 }, { account: 'sales_proceeds', amountFen: -7_001 }]],
    ['refund', refund('promotion_deposit', 1), [{ account: 'promotion_deposit', amountFen: -1 }, { account: 'payouts', amountFen: 1 }]],
    ['forfeiture', forfeiture('deposit', 300), [{ account: 'deposit', amountFen: -300 }, { account: 'platform_income', amountFen: 300 }]],
    ['reversal of a deduction', reversal(deduction('deposit', 300)), [{ account: 'deposit', amountFen: 300 }, { account: 'platform_income', amountFen: -300 }]],
  ])('%s moves the money both ways and sums to zero', (_name, entries, expected) => {
    expect(entries).toEqual(expected);
    expect(sum(entries)).toBe(0);
    expect(() => validateEntries(entries)).not.toThrow();
  });

  test.each([0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('an amount of %p fen is refused', (fen) => {
    expect(() => topUp('deposit', fen)).toThrow(LedgerValidationError);
    expect(() => deduction('deposit', fen)).toThrow(LedgerValidationError);
    expect(() => proceedsTransfer(fen)).toThrow(LedgerValidationError);
    expect(() => refund('deposit', fen)).toThrow(LedgerValidationError);
  });

  test.each<[string, Entry[], RegExp]>([
    ['one entry', [{ account: 'deposit', amountFen: 100 }], /at least two/],
    ['no entries', [], /at least two/],
    ['an unbalanced pair', [{ account: 'deposit', amountFen: 100 }, { account: 'merchant_payments', amountFen: -99 }], /sum to zero/],
    ['a zero entry', [{ account: 'deposit', amountFen: 0 }, { account: 'merchant_payments', amountFen: 0 }], /non-zero/],
    ['a fractional fen', [{ account: 'deposit', amountFen: 0.5 }, { account: 'merchant_payments', amountFen: -0.5 }], /whole fen/],
    ['an unknown account', [{ account: 'cash' as Entry['account'], amountFen: 1 }, { account: 'deposit', amountFen: -1 }], /unknown account/],
    // Each amount is safe, but their float sum would round to zero.
    [
      'amounts whose float sum hides a fen',
      [
        { account: 'deposit', amountFen: Number.MAX_SAFE_INTEGER },
        { account: 'payouts', amountFen: 2 },
        { account: 'merchant_payments', amountFen: -Number.MAX_SAFE_INTEGER },
        { account: 'platform_income', amountFen: -1 },
      ],
      /sum to 1 fen/,
    ],
  ])('validation refuses %s', (_name, entries, message) => {
    expect(() => validateEntries(entries)).toThrow(message);
  });
});

describe('ledger repository', () => {
  let t: TestDb;
  let ledger: Ledger;
  beforeAll(async () => {
    t = await createTestDb();
    ledger = createLedger(t.db);
    for (const shop of ['shop-a', 'shop-b', 'shop-c', 'shop-d', 'shop-e']) await addShop(t.db, shop);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const transactionCount = async (shopId: string) =>
    Number((await t.db('ledger_transactions').where({ shop_id: shopId }).count<Array<{ count: number }>>('* as count'))[0].count);

  test('ensureAccounts creates the six accounts once', async () => {
    await ledger.ensureAccounts('shop-a');
    await ledger.ensureAccounts('shop-a');
    const rows = await t.db('ledger_accounts').where({ shop_id: 'shop-a' }).orderBy('id');
    expect(rows.map((r) => r.id)).toEqual(ACCOUNT_KINDS.map((k) => `shop-a:${k}`).sort());
    expect(await ledger.balances('shop-a')).toEqual(Object.fromEntries(ACCOUNT_KINDS.map((k) => [k, 0])));
  });

  test('a top-up, a deduction and a proceeds transfer leave every fen accounted for', async () => {
    const first = await ledger.post(movement('shop-a', 'topup:shop-a:1', 'top_up', topUp('deposit', 50_000)));
    expect(first).toMatchObject({ replayed: false, entries: topUp('deposit', 50_000) });
    await ledger.post(movement('shop-a', 'violation:vc-1', 'deduction', deduction('deposit', 20_000), { details: { caseId: 'vc-1' } }));
    await ledger.post(movement('shop-a', 'shortfall:shop-a:1', 'proceeds_transfer', proceedsTransfer(12_345)));
    await ledger.post(movement('shop-a', 'topup:shop-a:promo', 'top_up', topUp('promotion_deposit', 50_000)));

    expect(await ledger.balances('shop-a')).toEqual({
      deposit: 42_345,
      promotion_deposit: 50_000,
      sales_proceeds: -12_345,
      merchant_payments: -100_000,
      payouts: 0,
      platform_income: 20_000,
      receivable: 0,
    });
    expect(await ledger.balance('shop-a', 'deposit')).toBe(42_345);
    expect(Object.values(await ledger.balances('shop-a')).reduce((s, v) => s + v, 0)).toBe(0);
  });

  test('recent lines come newest first, with their entries and details', async () => {
    const lines = await ledger.recentLines('shop-a', 3);
    expect(lines.map((l) => l.idempotencyKey)).toEqual(['topup:shop-a:promo', 'shortfall:shop-a:1', 'violation:vc-1']);
    expect(lines[2]).toMatchObject({
      shopId: 'shop-a',
      kind: 'deduction',
      reason: 'test deduction',
      actor: 'ops:olga',
      details: { caseId: 'vc-1' },
      entries: deduction('deposit', 20_000),
    });
    expect(lines[2].createdAt).toBeInstanceOf(Date);
    expect(await ledger.recentLines('shop-b', 10)).toEqual([]);
  });

  test('the same key twice posts once and answers the second time as a replay', async () => {
    const input = movement('shop-b', 'topup:shop-b:1', 'top_up', topUp('deposit', 30_000));
    const first = await ledger.post(input);
    const again = await ledger.post({ ...input, actor: 'retry' });
    expect(again).toEqual({ transactionId: first.transactionId, replayed: true, entries: first.entries });
    expect(await transactionCount('shop-b')).toBe(1);
    expect(await ledger.balance('shop-b', 'deposit')).toBe(30_000);
    expect(await ledger.findByKey('topup:shop-b:1')).toMatchObject({ transactionId: first.transactionId, actor: 'ops:olga' });
    expect(await ledger.findByKey('never-posted')).toBeUndefined();
  });

  test('racing retries of one key end with one transaction', async () => {
    const input = movement('shop-b', 'topup:shop-b:race', 'top_up', topUp('deposit', 1_000));
    const results = await Promise.all([ledger.post(input), ledger.post(input), ledger.post(input)]);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(await ledger.balance('shop-b', 'deposit')).toBe(31_000);
  });

  test('a key reused for a different movement is a conflict, not a silent replay', async () => {
    const posted = await ledger.findByKey('topup:shop-b:1');
    const attempts: PostInput[] = [
      movement('shop-b', 'topup:shop-b:1', 'top_up', topUp('deposit', 30_001)),
      movement('shop-b', 'topup:shop-b:1', 'top_up', topUp('promotion_deposit', 30_000)),
      movement('shop-b', 'topup:shop-b:1', 'reversal', topUp('deposit', 30_000)),
      movement('shop-c', 'topup:shop-b:1', 'top_up', topUp('deposit', 30_000)),
    ];
    for (const attempt of attempts) {
      const error = await ledger.post(attempt).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LedgerKeyConflictError);
      expect(error).toMatchObject({ idempotencyKey: 'topup:shop-b:1', existingTransactionId: posted?.transactionId });
    }
    expect(await ledger.balance('shop-b', 'deposit')).toBe(31_000);
    expect(await transactionCount('shop-c')).toBe(0);
  });

  test('a deduction beyond the deposit is refused unless negative balances are allowed', async () => {
    await ledger.post(movement('shop-c', 'topup:shop-c:1', 'top_up', topUp('deposit', 10_000)));
    const error = await ledger.post(movement('shop-c', 'violation:vc-2', 'deduction', deduction('deposit', 10_001))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientBalanceError);
    expect(error).toMatchObject({ shopId: 'shop-c', account: 'deposit', balanceFen: 10_000, debitFen: 10_001 });
    // Refused as a whole: the key stays free and nothing moved.
    expect(await ledger.findByKey('violation:vc-2')).toBeUndefined();
    expect(await ledger.balances('shop-c')).toMatchObject({ deposit: 10_000, platform_income: 0 });

    await expect(ledger.post(movement('shop-c', 'refund:shop-c:promo', 'refund', refund('promotion_deposit', 1)))).rejects.toThrow(
      InsufficientBalanceError,
    );
    // Taking exactly the balance is fine.
    await ledger.post(movement('shop-c', 'violation:vc-3', 'deduction', deduction('deposit', 4_000)));
    await ledger.post(movement('shop-c', 'violation:vc-2', 'deduction', deduction('deposit', 10_001), { allowNegative: true }));
    expect(await ledger.balances('shop-c')).toMatchObject({ deposit: -4_001, platform_income: 14_001 });
    // A retry is answered from the ledger, never re-checked against today's balance.
    expect(await ledger.post(movement('shop-c', 'violation:vc-2', 'deduction', deduction('deposit', 10_001)))).toMatchObject({ replayed: true });
  });

  test('concurrent deductions on one deposit cannot both spend the same fen', async () => {
    await ledger.post(movement('shop-d', 'topup:shop-d:1', 'top_up', topUp('deposit', 50_000)));
    const outcomes = await Promise.allSettled(
      ['vc-10', 'vc-11', 'vc-12'].map((c) => ledger.post(movement('shop-d', `violation:${c}`, 'deduction', deduction('deposit', 20_000)))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(refused[0].reason).toBeInstanceOf(InsufficientBalanceError);
    expect(await ledger.balance('shop-d', 'deposit')).toBe(10_000);
  });

  test('a reversal cancels a movement without editing it', async () => {
    const wrong = deduction('deposit', 5_000);
    await ledger.post(movement('shop-d', 'violation:vc-20', 'deduction', wrong));
    await ledger.post(movement('shop-d', 'reversal:violation:vc-20', 'reversal', reversal(wrong), { details: { reverses: 'violation:vc-20' } }));
    expect(await ledger.balances('shop-d')).toMatchObject({ deposit: 10_000, platform_income: 40_000 });
    expect((await ledger.recentLines('shop-d', 2)).map((l) => l.kind)).toEqual(['reversal', 'deduction']);
  });

  test('an invalid movement is refused before anything is written', async () => {
    const unbalanced = [{ account: 'deposit' as const, amountFen: 100 }, { account: 'merchant_payments' as const, amountFen: -90 }];
    await expect(ledger.post(movement('shop-e', 'bad:1', 'top_up', unbalanced))).rejects.toThrow(LedgerValidationError);
    await expect(ledger.post(movement('shop-e', '', 'top_up', topUp('deposit', 1)))).rejects.toThrow(/idempotencyKey/);
    await expect(ledger.post(movement('shop-e', 'bad:2', 'gift' as PostInput['kind'], topUp('deposit', 1)))).rejects.toThrow(/kind/);
    expect(await transactionCount('shop-e')).toBe(0);
  });

  test('a post inside a caller transaction commits or rolls back with it', async () => {
    await expect(
      t.db.transaction(async (trx) => {
        await ledger.post(movement('shop-e', 'topup:shop-e:rolled-back', 'top_up', topUp('deposit', 700)), trx);
        throw new Error('the caller fails after posting');
      }),
    ).rejects.toThrow('the caller fails');
    expect(await ledger.findByKey('topup:shop-e:rolled-back')).toBeUndefined();

    await t.db.transaction(async (trx) => {
      await ledger.post(movement('shop-e', 'topup:shop-e:1', 'top_up', topUp('deposit', 700)), trx);
    });
    expect(await ledger.balance('shop-e', 'deposit')).toBe(700);
  });

  describe('the database itself', () => {
    test('refuses a transaction whose entries do not sum to zero', async () => {
      await expect(rawPost(t.db, 'shop-e', 'raw:unbalanced', [['shop-e:deposit', 100], ['shop-e:merchant_payments', -90]])).rejects.toThrow(
        /unbalanced: its entries sum to 10 fen/,
      );
      await expect(rawPost(t.db, 'shop-e', 'raw:single', [['shop-e:deposit', 100]])).rejects.toThrow(/unbalanced|fewer than two/);
      await expect(rawPost(t.db, 'shop-e', 'raw:empty', [])).rejects.toThrow(/fewer than two entries/);
      await expect(rawPost(t.db, 'shop-e', 'raw:zero', [['shop-e:deposit', 0], ['shop-e:merchant_payments', 0]])).rejects.toThrow(
        /ledger_entries_amount_check/,
      );
      expect(await ledger.findByKey('raw:unbalanced')).toBeUndefined();
      expect(await ledger.balance('shop-e', 'deposit')).toBe(700);
    });

    test('refuses a transaction that moves another shop’s money', async () => {
      await expect(rawPost(t.db, 'shop-e', 'raw:foreign', [['shop-e:deposit', 100], ['shop-d:merchant_payments', -100]])).rejects.toThrow(
        /another shop/,
      );
    });

    test('accepts a balanced raw transaction: the trigger checks the sum, not the route', async () => {
      await rawPost(t.db, 'shop-e', 'raw:balanced', [['shop-e:deposit', 100], ['shop-e:merchant_payments', -100]]);
      expect(await ledger.balance('shop-e', 'deposit')).toBe(800);
    });

    test('keeps the ledger append-only', async () => {
      for (const table of ['ledger_entries', 'ledger_transactions']) {
        await expect(t.db(table).update({ id: t.db.raw('id') })).rejects.toThrow(new RegExp(`${table} is append-only`));
        await expect(t.db(table).delete()).rejects.toThrow(/append-only/);
        // The trigger refuses it for the owner; the app's role (PostgreSQL) has no TRUNCATE at all.
        await expect(t.db.raw(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/append-only|permission denied/);
      }
      expect(await ledger.balance('shop-a', 'deposit')).toBe(42_345);
    });
  });

  test('a healthy ledger has no invariant violations', async () => {
    expect(await checkInvariants(t.db)).toEqual([]);
  });
});

describe('checkInvariants', () => {
  let t: TestDb;
  beforeAll(async () => {
    // The owner: corrupting the ledger on purpose needs its guards switched off.
    t = await createTestDb({ as: 'owner' });
    await addShop(t.db, 'shop-x');
    await addShop(t.db, 'shop-y');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('finds what got past disabled triggers', async () => {
    const ledger = createLedger(t.db);
    const good = await ledger.post(movement('shop-x', 'topup:shop-x:1', 'top_up', topUp('deposit', 100)));
    await ledger.ensureAccounts('shop-y');
    // An operator switches the checks off to "fix" data by hand: exactly what the checker is for.
    await t.db.transaction(async (trx) => {
      await trx.raw('ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_balanced');
      await trx.raw('ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_have_entries');
      await rawPost(trx, 'shop-x', 'broken:unbalanced', [['shop-x:deposit', 100], ['shop-x:merchant_payments', -99]]);
      await rawPost(trx, 'shop-x', 'broken:single', [['shop-x:deposit', 5]]);
      await rawPost(trx, 'shop-x', 'broken:empty', []);
      await rawPost(trx, 'shop-x', 'broken:foreign', [['shop-x:deposit', 7], ['shop-y:merchant_payments', -7]]);
      await trx.raw('ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_balanced');
      await trx.raw('ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_have_entries');
    });

    const violations = await checkInvariants(t.db);
    expect(violations.map(({ idempotencyKey, sumFen, entryCount, problems }) => ({ idempotencyKey, sumFen, entryCount, problems }))).toEqual([
      { idempotencyKey: 'broken:unbalanced', sumFen: 1, entryCount: 2, problems: ['unbalanced'] },
      { idempotencyKey: 'broken:single', sumFen: 5, entryCount: 1, problems: ['unbalanced', 'too_few_entries'] },
      { idempotencyKey: 'broken:empty', sumFen: 0, entryCount: 0, problems: ['too_few_entries'] },
      { idempotencyKey: 'broken:foreign', sumFen: 0, entryCount: 2, problems: ['foreign_account'] },
    ]);
    expect(violations.map((v) => v.transactionId)).not.toContain(good.transactionId);

    // The triggers are back on for everyone else.
    await expect(rawPost(t.db, 'shop-x', 'raw:after', [['shop-x:deposit', 1], ['shop-x:merchant_payments', -2]])).rejects.toThrow(/unbalanced/);
  });
});
