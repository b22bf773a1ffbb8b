import { MockActivityEnvironment } from '@temporalio/testing';
import request from 'supertest';
import { createClosureActivities } from '../../activities/closure';
import { createDepositActivities } from '../../activities/deposits';
import { payOutOnce } from '../../activities/payouts';
import { checkInvariants, createLedger, topUp } from '../../db/repositories/ledger';
import { createShopRepository } from '../../db/repositories/shops';
import { createPaymentRepository } from '../../db/repositories/payments';
import { DEFAULT_DEPOSIT_POLICY } from '../../domain/deposit-policy';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { shopForUpdate } from '../../platform/sandbox/state';
import type { PlatformClient } from '../../platform/types';
import { offlinePaymentId } from '../../workflows/deposit-account.defs';
import { createTestDb, type TestDb } from '../support/db';

/**
 * The money paths of deposits audited end to end over a real database and the sandbox
 * platform: after every scenario the ledger, our payment rows and the platform's refunds agree.
 */
describe('deposit money audit', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let platform: PlatformClient;
  let deposits: ReturnType<typeof createDepositActivities>;
  let closure: ReturnType<typeof createClosureActivities>;

  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    platform = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    deposits = createDepositActivities({ db: t.db, platform, policy: DEFAULT_DEPOSIT_POLICY });
    closure = createClosureActivities({
      db: t.db,
      platform,
      policy: DEFAULT_DEPOSIT_POLICY,
      finalSettlement: async () => ({ owedFen: 0, period: '2026-11', payoutFen: 0 }),
    });
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });

  async function openShop(shopId: string) {
    await t.db('merchants').insert({ id: `m-${shopId}`, entity_type: 'individual', legal_name: 'x' });
    await t.db('shops').insert({ id: shopId, merchant_id: `m-${shopId}`, shop_type: 'individual', opened_by_case_id: `vc-${shopId}` });
    await createLedger(t.db).ensureAccounts(shopId);
  }

  /** The payer pays through the platform; answers the payment id. */
  async function pay(shopId: string, amountFen: number, status: 'confirmed' | 'pending' = 'confirmed', account: 'deposit' | 'promotion_deposit' = 'deposit'): Promise<string> {
    const res = await request(sandbox.url).post('/v1/_payments').set('Authorization', 'Bearer t').send({ shopId, account, amountFen, payerAccount: `bank:${shopId}:${amountFen}`, status });
    expect(res.status).toBe(201);
    return res.body.paymentId as string;
  }

  const credit = (shopId: string, paymentId: string) => deposits.creditPayment({ shopId, paymentId, actor: 'test' });

  /** Our record of what each payment had back, and the platform's record of what it paid per payment. */
  async function refundsPerPayment(shopId: string) {
    const ours = await t.db('deposit_payment_refunds as r').join('deposit_payments as p', 'p.payment_id', 'r.payment_id').where('p.shop_id', shopId).groupBy('r.payment_id').select('r.payment_id', t.db.raw('SUM(r.amount_fen)::bigint AS fen'));
    const platformSide = new Map<string, number>();
    for (const r of sandbox.state.shops.get(shopId)?.refunds ?? []) platformSide.set(r.paymentId ?? '(none)', (platformSide.get(r.paymentId ?? '(none)') ?? 0) + r.amountFen);
    return { ours: new Map(ours.map((r: { payment_id: string; fen: number }) => [r.payment_id, r.fen])), platform: platformSide };
  }

  /** balance = credited payments − refunds − deductions + reversals, from the ledger's own rows. */
  async function conservation(shopId: string, account: 'deposit' | 'promotion_deposit') {
    const credited = Number((await t.db('deposit_payments').where({ shop_id: shopId, account }).sum({ s: 'amount_fen' }))[0]!.s ?? 0);
    const refunded = Number((await t.db('deposit_payments').where({ shop_id: shopId, account }).sum({ s: 'refunded_fen' }))[0]!.s ?? 0);
    const byKind = await t.db('ledger_entries as e')
      .join('ledger_transactions as x', 'x.id', 'e.transaction_id')
      .where('e.account_id', `${shopId}:${account}`)
      .groupBy('x.kind')
      .select('x.kind', t.db.raw('SUM(e.amount_fen)::bigint AS fen'));
    const kind = (k: string) => (byKind.find((r: { kind: string }) => r.kind === k) as { fen: number } | undefined)?.fen ?? 0;
    const balance = await createLedger(t.db).balance(shopId, account);
    return { balance, credited, refunded, deductions: 0 - kind('deduction') || 0, reversals: kind('reversal'), refundsInLedger: 0 - kind('refund') || 0 };
  }

  test('payments from the platform, an offline transfer and the ladder, a fine reversed and a fine kept, then closure: every fen accounted for', async () => {
    const shopId = 'shop-audit';
    await openShop(shopId);
    const a = await pay(shopId, 30_000);
    expect((await credit(shopId, a)).creditedFen).toBe(30_000);
    // The callback and the top-up crediting the same payment: once.
    const again = await Promise.all([credit(shopId, a), credit(shopId, a)]);
    expect(again.every((r) => r.replayed)).toBe(true);

    const payments = createPaymentRepository(t.db);
    const offline = await payments.recordOffline({ id: 'off_audit', shopId, account: 'deposit', amountFen: 10_000, payerAccount: 'bank:offline', transferReference: 'TR-1', recordedBy: 'fin-a', recordedAt: new Date() });
    await expect(credit(shopId, offlinePaymentId(offline.id))).rejects.toMatchObject({ type: 'PaymentPending' });
    expect(await payments.approveOffline(offline.id, 'fin-a', new Date())).toBeUndefined();
    expect(await payments.approveOffline(offline.id, 'fin-b', new Date())).toMatchObject({ status: 'approved' });
    // An approval's credit racing a (signed) callback naming the same payment: once.
    const offlineCredits = await Promise.all([credit(shopId, offlinePaymentId(offline.id)), credit(shopId, offlinePaymentId(offline.id))]);
    expect(offlineCredits.map((r) => r.replayed).sort()).toEqual([false, true]);

    shopForUpdate(sandbox.state, shopId).availableProceedsFen = 5_000;
    await deposits.startEpisode({ shopId, episodeId: 'ep-audit', startedAt: new Date().toISOString(), requiredFen: 60_000, balanceFen: 40_000 });
    // As the worker runs it (the step logs through the activity context), twice as a retry would.
    const ladderStep = { shopId, merchantId: `m-${shopId}`, episodeId: 'ep-audit', step: 'transfer_proceeds' as const, shortfallFen: 8_000, requiredFen: 60_000 };
    await new MockActivityEnvironment().run(deposits.runLadderStep, ladderStep);
    await new MockActivityEnvironment().run(deposits.runLadderStep, ladderStep);
    expect(await payments.find(`proceeds:deposit:ep-audit:transfer_proceeds`)).toMatchObject({ source: 'sales_proceeds', amountFen: 5_000 });

    const fine = (reference: string, amountFen: number) => deposits.postMovement({ shopId, kind: 'deduction', account: 'deposit', amountFen, idempotencyKey: `deduction:${shopId}:${reference}`, reason: 'fine', actor: 'test' });
    await fine('fine-1', 12_000);
    await deposits.reverseDeduction({ shopId, deductionReference: 'fine-1', reason: 'appeal upheld', actor: 'test' });
    await deposits.reverseDeduction({ shopId, deductionReference: 'fine-1', reason: 'appeal upheld', actor: 'test' });
    await fine('fine-2', 7_000);
    expect(await conservation(shopId, 'deposit')).toEqual({ balance: 38_000, credited: 45_000, refunded: 0, deductions: 19_000, reversals: 12_000, refundsInLedger: 0 });

    await t.db('shop_closures').insert({ id: 'cl-audit', shop_id: shopId, workflow_id: 'w', status: 'refunding', requested_by: 'm', requested_at: new Date(), details: '{}' });
    expect(await closure.refundDeposits({ closureId: 'cl-audit', shopId })).toMatchObject({ deposit: 38_000, promotionDeposit: 0 });
    expect(await closure.refundDeposits({ closureId: 'cl-audit', shopId })).toMatchObject({ deposit: 38_000, promotionDeposit: 0 });

    // Oldest first: the fine kept is carried by the newest money (the ladder's proceeds, then part of the offline transfer).
    const rows = await t.db('deposit_payments').where({ shop_id: shopId }).orderBy('credited_at').select('payment_id', 'amount_fen', 'refunded_fen');
    expect(rows.map((r) => [r.payment_id, r.amount_fen, r.refunded_fen])).toEqual([
      [a, 30_000, 30_000],
      [offlinePaymentId(offline.id), 10_000, 8_000],
      ['proceeds:deposit:ep-audit:transfer_proceeds', 5_000, 0],
    ]);
    expect(await conservation(shopId, 'deposit')).toEqual({ balance: 0, credited: 45_000, refunded: 38_000, deductions: 19_000, reversals: 12_000, refundsInLedger: 38_000 });
    const per = await refundsPerPayment(shopId);
    expect(per.platform).toEqual(per.ours);
    expect(sandbox.state.payments.get(a)!.refundedFen).toBe(30_000);
    expect(sandbox.state.shops.get(shopId)!.refunds.find((r) => r.paymentId === offlinePaymentId(offline.id))).toMatchObject({ payerAccount: 'bank:offline', amountFen: 8_000 });
    expect(await checkInvariants(t.db)).toEqual([]);
  });

  test('a payment of 1 fen; a payout asked for one fen more than is refundable pays exactly what is refundable; the database refuses a fen more', async () => {
    const shopId = 'shop-fen';
    await openShop(shopId);
    const one = await pay(shopId, 1);
    expect(await credit(shopId, one)).toMatchObject({ creditedFen: 1, balanceFen: 1 });
    const deps = { db: t.db, ledger: createLedger(t.db), platform };
    const payout = { shopId, account: 'deposit' as const, key: `promotion-excess:${shopId}:r1`, reason: 'test', actor: 'test' };
    expect(await payOutOnce(deps, payout, async () => ({ amountFen: 2 }))).toEqual({ amountFen: 1 });
    expect(await createPaymentRepository(t.db).find(one)).toMatchObject({ amountFen: 1, refundedFen: 1 });
    expect(sandbox.state.payments.get(one)!.refundedFen).toBe(1);
    await expect(t.db('deposit_payments').where({ payment_id: one }).increment('refunded_fen', 1)).rejects.toThrow(/deposit_payments_refunded_check/);
  });

  test('pending and failed payments credit nothing; the largest movement sums exactly', async () => {
    const shopId = 'shop-states';
    await openShop(shopId);
    const pending = await pay(shopId, 5_000, 'pending');
    await expect(credit(shopId, pending)).rejects.toMatchObject({ type: 'PaymentPending' });
    const res = await request(sandbox.url).post(`/v1/_payments/${pending}/fail`).set('Authorization', 'Bearer t').send({});
    expect(res.status).toBe(200);
    await expect(credit(shopId, pending)).rejects.toMatchObject({ type: 'PaymentFailed' });
    await expect(credit(shopId, 'pay_unknown')).rejects.toMatchObject({ type: 'PaymentNotFound' });
    expect(await createLedger(t.db).balance(shopId, 'deposit')).toBe(0);

    // 100 million CNY, the most one movement may be, twice: the sum is still a safe integer read back exactly.
    const big = 10_000_000_000;
    await credit(shopId, await pay(shopId, big));
    await credit(shopId, await pay(shopId, big));
    expect(await createLedger(t.db).balance(shopId, 'deposit')).toBe(2 * big);
    expect(await conservation(shopId, 'deposit')).toMatchObject({ balance: 2 * big, credited: 2 * big });
  });

  test('a payout racing a top-up: the payout takes what it locked, the new payment stays whole and refundable', async () => {
    const shopId = 'shop-payout-topup';
    await openShop(shopId);
    await credit(shopId, await pay(shopId, 20_000));
    const late = await pay(shopId, 9_000);
    const deps = { db: t.db, ledger: createLedger(t.db), platform };
    const payout = { shopId, account: 'deposit' as const, key: `closure:race:refund:deposit`, reason: 'test', actor: 'test' };
    const [paid] = await Promise.all([payOutOnce(deps, payout, async () => ({ amountFen: 20_000 })), credit(shopId, late)]);
    expect(paid).toEqual({ amountFen: 20_000 });
    const c = await conservation(shopId, 'deposit');
    expect(c).toMatchObject({ balance: 9_000, credited: 29_000, refunded: 20_000, refundsInLedger: 20_000 });
    expect(await createPaymentRepository(t.db).find(late)).toMatchObject({ refundedFen: 0 });
  });

  test('a payment the platform had already refunded in part is credited for what it still holds; a repeat after our own refund replays', async () => {
    const shopId = 'shop-chargeback';
    await openShop(shopId);
    const a = await pay(shopId, 10_000);
    // The platform returned 4,000 to the payer before we credited it (a chargeback, a refund on its side).
    sandbox.state.payments.get(a)!.refundedFen = 4_000;
    expect(await credit(shopId, a)).toMatchObject({ creditedFen: 6_000, balanceFen: 6_000 });

    const b = await pay(shopId, 8_000);
    await credit(shopId, b);
    const deps = { db: t.db, ledger: createLedger(t.db), platform };
    const payout = { shopId, account: 'deposit' as const, key: `promotion-excess:${shopId}:r1`, reason: 'test', actor: 'test' };
    expect(await payOutOnce(deps, payout, async () => ({ amountFen: 9_000 }))).toEqual({ amountFen: 9_000 });
    // The platform's callback for b is sent again after our refund took 3,000 of it: the credit replays, nothing changes.
    expect(await credit(shopId, b)).toMatchObject({ replayed: true, creditedFen: 8_000, balanceFen: 5_000 });
    expect(await credit(shopId, a)).toMatchObject({ replayed: true, creditedFen: 6_000, balanceFen: 5_000 });

    // What is left goes back in full, and the platform accepts every share.
    expect(await payOutOnce(deps, { ...payout, key: `closure:cb:refund:deposit` }, async () => ({ amountFen: 5_000 }))).toEqual({ amountFen: 5_000 });
    expect(sandbox.state.payments.get(a)!.refundedFen).toBe(10_000);
    expect(sandbox.state.payments.get(b)!.refundedFen).toBe(8_000);
    expect(await conservation(shopId, 'deposit')).toMatchObject({ balance: 0, credited: 14_000, refunded: 14_000, refundsInLedger: 14_000 });
  });

  test('killed between the ledger post and the split: both roll back together, the retry pays once', async () => {
    const shopId = 'shop-killed';
    await openShop(shopId);
    const a = await pay(shopId, 6_000);
    await credit(shopId, a);
    const real = createLedger(t.db);
    let kill = true;
    const dying = {
      ...real,
      async post(...args: Parameters<typeof real.post>) {
        const posted = await real.post(...args);
        if (kill) {
          kill = false;
          throw new Error('worker killed after the ledger post');
        }
        return posted;
      },
    };
    const payout = { shopId, account: 'deposit' as const, key: `closure:killed:refund:deposit`, reason: 'test', actor: 'test' };
    const all = async () => ({ amountFen: await real.balance(shopId, 'deposit') });
    await expect(payOutOnce({ db: t.db, ledger: dying, platform }, payout, all)).rejects.toThrow('worker killed');
    expect(await real.findByKey(payout.key)).toBeUndefined();
    expect(await t.db('deposit_payment_refunds').where({ refund_key: payout.key })).toEqual([]);
    expect(await real.balance(shopId, 'deposit')).toBe(6_000);
    expect(await payOutOnce({ db: t.db, ledger: dying, platform }, payout, all)).toEqual({ amountFen: 6_000 });
    expect(sandbox.state.shops.get(shopId)!.refunds.map((r) => [r.paymentId, r.amountFen])).toEqual([[a, 6_000]]);
    expect(await conservation(shopId, 'deposit')).toMatchObject({ balance: 0, refunded: 6_000, refundsInLedger: 6_000 });
  });

  test('the platform pays a key once: a repeat replays, a changed share under the same key is refused and pays nothing', async () => {
    const shopId = 'shop-keys';
    await openShop(shopId);
    const a = await pay(shopId, 4_000);
    await credit(shopId, a);
    const deps = { db: t.db, ledger: createLedger(t.db), platform };
    const payout = { shopId, account: 'deposit' as const, key: `closure:keys:refund:deposit`, reason: 'test', actor: 'test' };
    expect(await payOutOnce(deps, payout, async () => ({ amountFen: 4_000 }))).toEqual({ amountFen: 4_000 });
    const share = { shopId, account: 'deposit' as const, reference: payout.key, paymentId: a, payerAccount: `bank:${shopId}:4000` };
    const key = `${payout.key}:${a}`;
    expect(await platform.refund({ ...share, amountFen: 4_000 }, key)).toMatchObject({ amountFen: 4_000 });
    await expect(platform.refund({ ...share, amountFen: 3_999 }, key)).rejects.toMatchObject({ type: 'PlatformRejected' });
    expect(sandbox.state.shops.get(shopId)!.refunds.map((r) => r.amountFen)).toEqual([4_000]);
    expect(sandbox.state.payments.get(a)!.refundedFen).toBe(4_000);
  });

  test('at closure a balance no payment stands behind is recorded as held, with its amount and reason, not left silently', async () => {
    const shopId = 'shop-unbacked';
    await openShop(shopId);
    await credit(shopId, await pay(shopId, 1_000));
    // Credited before payments were checked: a caller's claim, no payment behind it.
    await createLedger(t.db).post({ idempotencyKey: `topup:${shopId}:legacy-claim`, shopId, kind: 'top_up', reason: 'legacy top-up', actor: 'test', entries: topUp('deposit', 5_000) });
    await t.db('shop_closures').insert({ id: 'cl-unbacked', shop_id: shopId, workflow_id: 'w', status: 'refunding', requested_by: 'm', requested_at: new Date(), details: '{}' });

    const result = await closure.refundDeposits({ closureId: 'cl-unbacked', shopId });
    expect(result).toMatchObject({ deposit: 1_000, promotionDeposit: 0, heldFen: { deposit: 5_000, promotionDeposit: 0 } });
    expect(await createLedger(t.db).balance(shopId, 'deposit')).toBe(5_000);
    const recorded = await createShopRepository(t.db).findClosure('cl-unbacked');
    expect(recorded!.details).toMatchObject({ held: { deposit: 5_000, promotionDeposit: 0, reason: expect.stringMatching(/no confirmed payment/) } });
    // Run again (a retry): the same answer, nothing paid twice.
    expect(await closure.refundDeposits({ closureId: 'cl-unbacked', shopId })).toEqual(result);
    expect((sandbox.state.shops.get(shopId)?.refunds ?? []).reduce((s, r) => s + r.amountFen, 0)).toBe(1_000);
  });

  // Two fines of the same shop at once: each reads what the deposit holds before it posts. The
  // deposit process hands fines over once accepted, so a fine that failed here would stay
  // recorded on its case with nothing in the ledger: each must be taken whole, paid or owed.
  test('two fines of one shop at once are both taken whole: the deposit pays what it holds, the rest is owed', async () => {
    // Several shops, so the two reads of some shop land before either post.
    const shops = Array.from({ length: 10 }, (_, i) => `shop-two-fines-${i}`);
    for (const shopId of shops) {
      await openShop(shopId);
      await credit(shopId, await pay(shopId, 10_000));
    }
    const fine = (shopId: string, n: number) =>
      deposits.deductOwing({ shopId, account: 'deposit', amountFen: 8_000, idempotencyKey: `deduction:${shopId}:violation:vio_${n}:fine`, reason: `fine ${n}`, actor: 'test' });
    const results = await Promise.allSettled(shops.flatMap((shopId) => [fine(shopId, 1), fine(shopId, 2)]));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    for (const shopId of shops) expect(await createLedger(t.db).balances(shopId)).toMatchObject({ deposit: 0, receivable: -6_000, platform_income: 16_000 });
  });
});
