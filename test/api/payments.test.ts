import request from 'supertest';
import { signPlatformCallback } from '../../security/platform-signature';
import { eventually } from '../support/fixtures';
import { pay, settlePayment } from '../support/payments';
import { expectLedgerWhole, openShop, platformShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api } from './http';

const REQUIRED = 50_000; // [default] individual shop: 500 CNY
const PROMOTION_MINIMUM = 50_000; // [src] promotion deposit: at least 500 CNY
const CALLBACK = '/v1/platform/payment-callbacks';

describe('payments: only confirmed money is credited, and refunds go back where it came from', () => {
  let stack: Stack;
  let api: Api;
  let callbackUrl: string;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' }, { listenForCallbacks: true });
    api = apiFor(stack);
    callbackUrl = stack.paymentCallback.url;
  });
  // The platform's callbacks reach the API only where a test says so: elsewhere a top-up is what credits.
  beforeEach(() => {
    stack.paymentCallback.url = '';
  });
  const sendCallbacks = () => {
    stack.paymentCallback.url = callbackUrl;
  };
  afterAll(async () => {
    await stack?.teardown();
  });

  const topUp = (shopId: string, owner: string, body: unknown) => api.post(`/v1/shops/${shopId}/deposit/top-ups`, merchant(owner), body);
  const deposit = async (shopId: string) => (await api.get(`/v1/shops/${shopId}/deposit`, staff.finance)).body as { balanceFen: number; promotionBalanceFen: number };
  const topUpLines = async (shopId: string) => stack.db('ledger_transactions').where({ shop_id: shopId, kind: 'top_up' });
  const signed = (body: string, timestamp = Math.floor(Date.now() / 1000), secret = stack.config.PLATFORM_CALLBACK_SECRET) =>
    request(stack.app)
      .post(CALLBACK)
      .set('Content-Type', 'application/json')
      .set('X-Platform-Timestamp', String(timestamp))
      .set('X-Platform-Signature', signPlatformCallback(secret, timestamp, body))
      .send(body);

  test('a top-up credits the confirmed amount to the account paid, once per payment id', async () => {
    const owner = 'm-pay-once';
    const { shopId } = await openShop(stack, owner);
    const { paymentId } = await pay(stack, { shopId, account: 'promotion_deposit', amountFen: 80_000 });

    const first = await topUp(shopId, owner, { paymentId });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ paymentId, account: 'promotion_deposit', creditedFen: 80_000, replayed: false, promotionBalanceFen: 80_000, balanceFen: 0 });
    const again = await topUp(shopId, owner, { paymentId, account: 'promotion_deposit', amountFen: 80_000 });
    expect(again.body).toMatchObject({ replayed: true, transactionId: first.body.transactionId, promotionBalanceFen: 80_000 });

    expect(await stack.db('deposit_payments').where({ payment_id: paymentId })).toEqual([
      expect.objectContaining({ shop_id: shopId, account: 'promotion_deposit', source: 'platform', payer_account: `bank:${shopId}`, amount_fen: 80_000, refunded_fen: 0 }),
    ]);
    expect(await topUpLines(shopId)).toHaveLength(1);
    await expectLedgerWhole(stack, shopId);
  });

  test('an unknown, failed or mismatched payment is refused and credits nothing; a pending one is a 409 to retry', async () => {
    const owner = 'm-pay-refused';
    const { shopId } = await openShop(stack, owner);
    const other = await openShop(stack, 'm-pay-other');

    const unknown = await topUp(shopId, owner, { paymentId: 'pay_made-up', amountFen: 10_000_000_000, account: 'promotion_deposit' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'payment_not_found' });

    const real = await pay(stack, { shopId, account: 'deposit', amountFen: 20_000 });
    const more = await topUp(shopId, owner, { paymentId: real.paymentId, amountFen: 20_001 });
    expect(more.status).toBe(409);
    expect(more.body).toMatchObject({ code: 'payment_mismatch', retryable: false });
    const wrongAccount = await topUp(shopId, owner, { paymentId: real.paymentId, account: 'promotion_deposit' });
    expect(wrongAccount.body).toMatchObject({ code: 'payment_mismatch' });
    const elsewhere = await topUp(other.shopId, 'm-pay-other', { paymentId: real.paymentId });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.detail).toContain('another shop');

    const pending = await pay(stack, { shopId, account: 'deposit', amountFen: 30_000, status: 'pending' });
    const early = await topUp(shopId, owner, { paymentId: pending.paymentId });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'payment_pending', retryable: true });

    const failing = await pay(stack, { shopId, account: 'deposit', amountFen: 40_000, status: 'pending' });
    await settlePayment(stack, failing.paymentId, 'fail');
    const failed = await topUp(shopId, owner, { paymentId: failing.paymentId });
    expect(failed.status).toBe(409);
    expect(failed.body).toMatchObject({ code: 'payment_failed' });

    expect(await deposit(shopId)).toMatchObject({ balanceFen: 0, promotionBalanceFen: 0 });
    expect(await deposit(other.shopId)).toMatchObject({ balanceFen: 0, promotionBalanceFen: 0 });
    expect(await topUpLines(shopId)).toHaveLength(0);
    expect(await stack.db('deposit_payments').where({ shop_id: shopId })).toHaveLength(0);

    // Confirmed at last, the merchant's retry credits it.
    await settlePayment(stack, pending.paymentId, 'confirm');
    expect((await topUp(shopId, owner, { paymentId: pending.paymentId })).body).toMatchObject({ creditedFen: 30_000, balanceFen: 30_000 });
    await expectLedgerWhole(stack, shopId);
  });

  test("the platform's signed callback credits a confirmed payment; the merchant's top-up of it then replays", async () => {
    const owner = 'm-pay-callback';
    const { shopId } = await openShop(stack, owner);
    sendCallbacks();
    const { paymentId } = await pay(stack, { shopId, account: 'deposit', amountFen: REQUIRED, status: 'pending' });
    expect(await deposit(shopId)).toMatchObject({ balanceFen: 0 });

    const confirmed = await settlePayment(stack, paymentId, 'confirm');
    expect(confirmed.callbacks).toEqual([expect.objectContaining({ status: 'confirmed', answeredWith: 200 })]);
    expect(await deposit(shopId)).toMatchObject({ balanceFen: REQUIRED });

    const byMerchant = await topUp(shopId, owner, { paymentId });
    expect(byMerchant.body).toMatchObject({ replayed: true, balanceFen: REQUIRED });
    // The platform sends it again (as it does until acknowledged): still one credit.
    expect((await settlePayment(stack, paymentId, 'confirm')).callbacks.map((c) => c.answeredWith)).toEqual([200, 200]);
    expect(await topUpLines(shopId)).toHaveLength(1);
    const audited = await eventually(() => stack.db('audit_log').where({ action: 'payment.callback', target: `shop:${shopId}:payment:${paymentId}` }), (rows) => rows.length === 2);
    expect(audited.map((r) => r.status_code)).toEqual([200, 200]);
    await expectLedgerWhole(stack, shopId);
  });

  test('a callback and a top-up of the same payment racing each other credit it once', async () => {
    const owner = 'm-pay-race';
    const { shopId } = await openShop(stack, owner);
    const { paymentId } = await pay(stack, { shopId, account: 'deposit', amountFen: 12_345 });
    const body = JSON.stringify({ paymentId, shopId, status: 'confirmed' });
    const answers = await Promise.all([signed(body), topUp(shopId, owner, { paymentId }), signed(body), topUp(shopId, owner, { paymentId })]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((a) => a.body.transactionId).filter((id, i, all) => all.indexOf(id) === i)).toHaveLength(1);
    expect(await deposit(shopId)).toMatchObject({ balanceFen: 12_345 });
    expect(await topUpLines(shopId)).toHaveLength(1);
    await expectLedgerWhole(stack, shopId);
  });

  test('a callback with a bad, stale or missing signature is refused and credits nothing', async () => {
    const owner = 'm-pay-forged';
    const { shopId } = await openShop(stack, owner);
    const { paymentId } = await pay(stack, { shopId, account: 'deposit', amountFen: 50_000 });
    const body = JSON.stringify({ paymentId, shopId, status: 'confirmed' });
    const now = Math.floor(Date.now() / 1000);
    const tolerance = stack.config.PLATFORM_CALLBACK_TOLERANCE_SECONDS;

    const forged = await signed(body, now, 'an-attacker-guessing-the-secret-0000000');
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ code: 'invalid_signature', detail: expect.stringContaining('mismatch') });
    expect((await signed(body, now - tolerance - 60)).body.detail).toContain('stale');
    const unsigned = await request(stack.app).post(CALLBACK).set('Content-Type', 'application/json').send(body);
    expect(unsigned.status).toBe(401);
    const tampered = await request(stack.app)
      .post(CALLBACK)
      .set('Content-Type', 'application/json')
      .set('X-Platform-Timestamp', String(now))
      .set('X-Platform-Signature', signPlatformCallback(stack.config.PLATFORM_CALLBACK_SECRET, now, body))
      .send(body.replace(shopId, 'shop-m-pay-once'));
    expect(tampered.status).toBe(401);

    expect(await deposit(shopId)).toMatchObject({ balanceFen: 0 });
    expect(await topUpLines(shopId)).toHaveLength(0);
    // A good signature over a body that is not a payment is a 400, and a failed payment credits nothing.
    expect((await signed('{"paymentId":"x"}')).status).toBe(400);
    expect((await signed(JSON.stringify({ paymentId, shopId, status: 'failed' }))).body).toEqual({ paymentId, credited: false });
  });

  test('withdrawals and refunds go back to the payer of each payment, split, never more than it paid in', async () => {
    const owner = 'm-pay-refunds';
    const { shopId } = await openShop(stack, owner);
    const first = await pay(stack, { shopId, account: 'promotion_deposit', amountFen: 60_000, payerAccount: 'alipay:first' });
    const second = await pay(stack, { shopId, account: 'promotion_deposit', amountFen: 40_000, payerAccount: 'bank:second' });
    for (const p of [first, second]) expect((await topUp(shopId, owner, { paymentId: p.paymentId })).status).toBe(200);

    // 1,000 CNY held, 500 CNY minimum: 500 CNY of excess, all of it from the oldest payment.
    const excess = await api.post(`/v1/shops/${shopId}/promotion/excess-withdrawal`, merchant(owner), {});
    expect(excess.body).toMatchObject({ done: true, refundedFen: 50_000 });
    // A fine lowers what is left to refund; closing promotion refunds the rest, split over both payments.
    const fine = await api.post(`/v1/shops/${shopId}/deposit/deductions`, staff.finance, { account: 'promotion_deposit', amountFen: 5_000, reason: 'fine', reference: 'fine-pay-1' });
    expect(fine.status).toBe(200);
    const asked = await api.post(`/v1/shops/${shopId}/promotion/closure`, merchant(owner), {});
    expect(asked.status).toBe(202);
    const closed = await eventually(() => api.get(`/v1/shops/${shopId}/promotion/closure`, merchant(owner)), (r) => r.body.status === 'closed');
    expect(closed.body).toMatchObject({ deductedFen: 0, refundedFen: 45_000 });

    const refunds = platformShop(stack, shopId).refunds.map((r) => [r.paymentId, r.payerAccount, r.amountFen]);
    expect(refunds).toEqual([
      [first.paymentId, 'alipay:first', 50_000],
      [first.paymentId, 'alipay:first', 10_000],
      [second.paymentId, 'bank:second', 35_000],
    ]);
    const rows = await stack.db('deposit_payments').where({ shop_id: shopId }).orderBy('credited_at');
    expect(rows.map((r) => [r.payment_id, r.amount_fen, r.refunded_fen])).toEqual([
      [first.paymentId, 60_000, 60_000],
      [second.paymentId, 40_000, 35_000],
    ]);
    const onPlatform = [...stack.sandbox.state.payments.values()].filter((p) => p.shopId === shopId).map((p) => [p.paymentId, p.refundedFen]);
    expect(onPlatform).toEqual([
      [first.paymentId, 60_000],
      [second.paymentId, 35_000],
    ]);
    expect(await deposit(shopId)).toMatchObject({ promotionBalanceFen: 0 });
    await expectLedgerWhole(stack, shopId);
  });

  test('the database refuses to refund a payment more than it paid', async () => {
    const owner = 'm-pay-check';
    const { shopId } = await openShop(stack, owner);
    const { paymentId } = await pay(stack, { shopId, account: 'deposit', amountFen: 1_000 });
    await topUp(shopId, owner, { paymentId });
    await expect(stack.db('deposit_payments').where({ payment_id: paymentId }).update({ refunded_fen: 1_001 })).rejects.toThrow(/deposit_payments_refunded_check/);
    await stack.db('deposit_payments').where({ payment_id: paymentId }).update({ refunded_fen: 1_000 });
    await stack.db('deposit_payments').where({ payment_id: paymentId }).update({ refunded_fen: 0 });
  });

  describe('offline transfers: maker and checker', () => {
    const owner = 'm-pay-offline';
    let shopId: string;
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, owner));
    });
    const offline = `/v1/shops/shop-${owner}/deposit/offline-top-ups`;
    const transfer = { account: 'deposit', amountFen: REQUIRED, payerAccount: 'icbc:6222-0001', transferReference: 'icbc-20261201-77' };

    test('recorded by one finance person it is not credited; the same person cannot approve it, another can, once', async () => {
      const recorded = await api.post(offline, staff.finance, transfer);
      expect(recorded.status).toBe(201);
      expect(recorded.body).toMatchObject({ status: 'pending_approval', recordedBy: 'fang', approvedBy: null, amountFen: REQUIRED });
      const id = recorded.body.offlineTopUpId as string;
      expect(await deposit(shopId)).toMatchObject({ balanceFen: 0 });
      // A top-up naming it before approval is a claim like any other: not credited.
      expect((await topUp(shopId, owner, { paymentId: recorded.body.paymentId })).body).toMatchObject({ code: 'payment_pending' });

      const self = await api.post(`${offline}/${id}/approval`, staff.finance, {});
      expect(self.status).toBe(403);
      expect(self.body.detail).toContain('second person');
      const sameSubOtherRole = await api.post(`${offline}/${id}/approval`, { sub: 'fang', role: 'admin' }, {});
      expect(sameSubOtherRole.status).toBe(403);
      expect((await api.post(`${offline}/${id}/approval`, staff.ops, {})).status).toBe(403);
      expect((await api.post(`${offline}/${id}/approval`, merchant(owner), {})).status).toBe(403);
      expect(await deposit(shopId)).toMatchObject({ balanceFen: 0 });

      const approved = await api.post(`${offline}/${id}/approval`, staff.admin, {});
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ offlineTopUp: { status: 'approved', approvedBy: 'ada', recordedBy: 'fang' }, creditedFen: REQUIRED, replayed: false, balanceFen: REQUIRED });
      const again = await api.post(`${offline}/${id}/approval`, { sub: 'fu', role: 'finance' }, {});
      expect(again.body).toMatchObject({ replayed: true, transactionId: approved.body.transactionId, offlineTopUp: { approvedBy: 'ada' } });
      expect(await deposit(shopId)).toMatchObject({ balanceFen: REQUIRED });

      const listed = await api.get(offline, staff.ops);
      expect(listed.body.offlineTopUps).toEqual([expect.objectContaining({ offlineTopUpId: id, status: 'approved' })]);
      expect((await api.post(offline, { sub: 'fu', role: 'finance' }, transfer)).status).toBe(409);
      const payment = await stack.db('deposit_payments').where({ payment_id: `offline:${id}` }).first();
      expect(payment).toMatchObject({ source: 'offline_transfer', payer_account: 'icbc:6222-0001', amount_fen: REQUIRED });

      // Every step audited, refusals included (a wrong role is refused before the route names its action):
      // an attempt row before each request, and its outcome row.
      const trail = await eventually(
        () => stack.db('audit_log').whereRaw(`details->>'path' LIKE ?`, [`${offline}%`]).orderBy('id'),
        (found) => found.filter((r) => r.outcome !== 'attempted').length === 8,
        5_000,
      );
      expect(trail.filter((r) => r.outcome === 'attempted')).toHaveLength(8);
      const rows = trail.filter((r) => r.outcome !== 'attempted');
      expect(rows.map((r) => [r.actor_sub, r.status_code, r.outcome]).sort()).toEqual(
        [
          ['fang', 201, 'succeeded'],
          ['fang', 403, 'refused'],
          ['fang', 403, 'refused'],
          ['olga', 403, 'refused'],
          [`u-${owner}`, 403, 'refused'],
          ['ada', 200, 'succeeded'],
          ['fu', 200, 'succeeded'],
          ['fu', 409, 'refused'],
        ].sort(),
      );
      expect(rows.filter((r) => r.actor_sub === 'ada')[0]).toMatchObject({ action: 'deposit.offline_top_up.approve', target: `shop:${shopId}:offline:${id}` });
      await expectLedgerWhole(stack, shopId);
    });

    test('the database itself refuses an approval by whoever recorded it', async () => {
      const recorded = await api.post(offline, staff.finance, { ...transfer, transferReference: 'icbc-20261201-78' });
      await expect(stack.db('offline_top_ups').where({ id: recorded.body.offlineTopUpId }).update({ status: 'approved', approved_by: 'fang', approved_at: new Date() })).rejects.toThrow(/maker_checker/);
    });

    test('the shop-closure refund sends an offline transfer back to its payer account', async () => {
      const closure = await api.post(`/v1/shops/${shopId}/closure`, merchant(owner), {});
      expect(closure.status).toBe(202);
      await eventually(() => api.get(`/v1/shops/${shopId}/closure`, staff.ops), (r) => r.body.status === 'closed', 20_000);
      expect(platformShop(stack, shopId).refunds.map((r) => [r.account, r.payerAccount, r.amountFen])).toEqual([['deposit', 'icbc:6222-0001', REQUIRED]]);
      await expectLedgerWhole(stack, shopId);
    });
  });

  test('the sandbox refuses a refund above what a payment has left', async () => {
    const { paymentId } = await pay(stack, { shopId: 'shop-anyone', account: 'deposit', amountFen: 1_000 });
    const refund = (amountFen: number, key: string) =>
      request(stack.sandbox.url)
        .post('/v1/payments/refunds')
        .set('Authorization', `Bearer ${stack.config.PLATFORM_API_TOKEN}`)
        .set('Idempotency-Key', key)
        .send({ shopId: 'shop-anyone', account: 'deposit', amountFen, reference: key, paymentId });
    expect((await refund(600, 'r-1')).status).toBe(201);
    expect((await refund(401, 'r-2')).body).toEqual({ error: 'refund_exceeds_payment', refundableFen: 400 });
    expect((await refund(400, 'r-3')).status).toBe(201);
    expect(stack.sandbox.state.payments.get(paymentId)!.refundedFen).toBe(1_000);
  });

  test('the top-up route no longer takes a made-up reference', async () => {
    const res = await topUp('shop-m-pay-once', 'm-pay-once', { account: 'promotion_deposit', amountFen: PROMOTION_MINIMUM, paymentReference: 'anything' });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'paymentId' })]));
  });
});
