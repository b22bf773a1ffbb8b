import { ApplicationFailure } from '@temporalio/common';
import { payOutOnce, type Payout } from '../../activities/payouts';
import { checkInvariants, createLedger, topUp } from '../../db/repositories/ledger';
import { createPaymentRepository } from '../../db/repositories/payments';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

/** payOutOnce over a real database and the sandbox: split, capped, and paid once whatever is retried. */
describe('payOutOnce', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let platform: PlatformClient;
  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    platform = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });

  /** A shop whose deposit holds the given payments, credited as the top-up activity credits them. */
  async function shopWithPayments(shopId: string, amounts: number[]): Promise<string[]> {
    await t.db('merchants').insert({ id: `m-${shopId}`, entity_type: 'individual', legal_name: 'x' });
    await t.db('shops').insert({ id: shopId, merchant_id: `m-${shopId}`, shop_type: 'individual', opened_by_case_id: `vc-${shopId}` });
    const ledger = createLedger(t.db);
    const ids: string[] = [];
    for (const [i, amountFen] of amounts.entries()) {
      const paymentId = `pay_${shopId}_${i}`;
      const posted = await ledger.post({ idempotencyKey: `topup:${shopId}:${paymentId}`, shopId, kind: 'top_up', reason: 'test', actor: 'test', entries: topUp('deposit', amountFen) });
      await createPaymentRepository(t.db).recordCredit({ paymentId, shopId, account: 'deposit', source: 'platform', payerAccount: `bank:${i}`, amountFen, ledgerTransactionId: posted.transactionId });
      // Distinct credit times keep "oldest first" meaningful.
      await t.db('deposit_payments').where({ payment_id: paymentId }).update({ credited_at: new Date(Date.UTC(2026, 0, 1 + i)) });
      ids.push(paymentId);
    }
    return ids;
  }
  const payout = (shopId: string, key: string): Payout => ({ shopId, account: 'deposit', key, reason: 'test', actor: 'test' });
  const refundsOf = (shopId: string) => (sandbox.state.shops.get(shopId)?.refunds ?? []).map((r) => [r.paymentId, r.amountFen]);

  test('an answer lost on the second share: the retry pays that share once and the first not again', async () => {
    const shopId = 'shop-lost';
    const [p0, p1] = await shopWithPayments(shopId, [30_000, 20_000]);
    let lose = true;
    const flaky: PlatformClient = {
      ...platform,
      async refund(input, key) {
        const answer = await platform.refund(input, key);
        if (input.paymentId === p1 && lose) {
          lose = false;
          throw ApplicationFailure.retryable('answer lost', 'PlatformUnavailable');
        }
        return answer;
      },
    };
    let decided = 0;
    const decide = async () => {
      decided += 1;
      return { amountFen: await createLedger(t.db).balance(shopId, 'deposit') };
    };
    const deps = { db: t.db, ledger: createLedger(t.db), platform: flaky };
    await expect(payOutOnce(deps, payout(shopId, 'closure:c1:refund:deposit'), decide)).rejects.toThrow('answer lost');
    expect(await payOutOnce(deps, payout(shopId, 'closure:c1:refund:deposit'), decide)).toEqual({ amountFen: 50_000 });
    expect(await payOutOnce(deps, payout(shopId, 'closure:c1:refund:deposit'), decide)).toEqual({ amountFen: 50_000 });

    expect(decided).toBe(1);
    expect(refundsOf(shopId)).toEqual([
      [p0, 30_000],
      [p1, 20_000],
    ]);
    expect(await createLedger(t.db).balance(shopId, 'deposit')).toBe(0);
    expect((await t.db('deposit_payments').where({ shop_id: shopId }).orderBy('credited_at')).map((r) => r.refunded_fen)).toEqual([30_000, 20_000]);
    expect(await checkInvariants(t.db)).toEqual([]);
  });

  test('two payouts racing for the same money pay out no more than was paid in', async () => {
    const shopId = 'shop-race';
    await shopWithPayments(shopId, [10_000, 5_000]);
    const deps = { db: t.db, ledger: createLedger(t.db), platform };
    const everything = async () => ({ amountFen: 15_000 });
    const outcomes = await Promise.allSettled([
      payOutOnce(deps, payout(shopId, 'promotion-excess:a'), everything),
      payOutOnce(deps, payout(shopId, 'closure:b:refund:deposit'), everything),
      payOutOnce(deps, payout(shopId, 'promotion-closure:c'), everything),
    ]);
    const paid = outcomes.map((o) => (o.status === 'fulfilled' && 'amountFen' in o.value ? o.value.amountFen : 0));
    expect(paid.reduce((a, b) => a + b, 0)).toBe(15_000);
    expect(refundsOf(shopId).reduce((sum, [, fen]) => sum + (fen as number), 0)).toBe(15_000);
    expect(await createLedger(t.db).balance(shopId, 'deposit')).toBe(0);
  });

  test('two withdrawals of an excess decided at once pay the excess once: the cap is read again under the lock', async () => {
    // Both decide "balance 15,000 less a 5,000 minimum = 10,000" before either commits.
    const shopId = 'shop-excess-race';
    await shopWithPayments(shopId, [10_000, 5_000]);
    const ledger = createLedger(t.db);
    const deps = { db: t.db, ledger, platform };
    const minimumFen = 5_000;
    const excess = (key: string): Payout => ({
      ...payout(shopId, key),
      capInTransaction: async (tx) => Math.max(0, (await ledger.balance(shopId, 'deposit', tx)) - minimumFen),
    });
    const decidedTogether = async () => ({ amountFen: 10_000 });
    const outcomes = await Promise.all([
      payOutOnce(deps, excess('promotion-excess:first'), decidedTogether),
      payOutOnce(deps, excess('promotion-excess:second'), decidedTogether),
    ]);
    const paid = outcomes.map((o) => ('amountFen' in o ? o.amountFen : 0));
    expect(paid.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(await ledger.balance(shopId, 'deposit')).toBe(minimumFen);
    expect(refundsOf(shopId).reduce((sum, [, fen]) => sum + (fen as number), 0)).toBe(10_000);
  });

  test('a twin that commits between the first look at the split and at the ledger: paid once, never also as a whole', async () => {
    const shopId = 'shop-twin';
    const [p0, p1] = await shopWithPayments(shopId, [10_000, 5_000]);
    const real = createLedger(t.db);
    const key = 'closure:twin:refund:deposit';
    const everything = async () => ({ amountFen: 15_000 });
    // The retried attempt reads the split (none yet); the first attempt commits and pays; only then does the retry read the ledger.
    let twinRan = false;
    const late = {
      ...real,
      async findByKey(k: string) {
        if (!twinRan) {
          twinRan = true;
          await payOutOnce({ db: t.db, ledger: real, platform }, payout(shopId, key), everything);
        }
        return real.findByKey(k);
      },
    };
    expect(await payOutOnce({ db: t.db, ledger: late, platform }, payout(shopId, key), everything)).toEqual({ amountFen: 15_000 });
    expect(twinRan).toBe(true);
    expect(refundsOf(shopId)).toEqual([
      [p0, 10_000],
      [p1, 5_000],
    ]);
    expect(await real.balance(shopId, 'deposit')).toBe(0);
  });

  test('a balance above what payments can give back (money from nowhere) pays only what was paid in', async () => {
    const shopId = 'shop-claimed';
    const [p0] = await shopWithPayments(shopId, [1_000]);
    // A credit with no payment behind it, as top-ups were recorded before payments were checked.
    await createLedger(t.db).post({ idempotencyKey: `topup:${shopId}:anything`, shopId, kind: 'top_up', reason: 'claim', actor: 'test', entries: topUp('deposit', 10_000_000_000) });
    const deps = { db: t.db, ledger: createLedger(t.db), platform };
    const result = await payOutOnce(deps, payout(shopId, 'promotion-excess:x'), async () => ({ amountFen: await createLedger(t.db).balance(shopId, 'deposit') }));
    expect(result).toEqual({ amountFen: 1_000 });
    expect(refundsOf(shopId)).toEqual([[p0, 1_000]]);
  });
});
