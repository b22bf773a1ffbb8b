import request from 'supertest';
import { signPlatformCallback } from '../../security/platform-signature';
import type { PlatformClient } from '../../platform/types';
import { eventually } from '../support/fixtures';
import { schemaProblem } from '../support/json-schema';
import { asOwner } from '../support/owner-sql';
import { pay } from '../support/payments';
import { expectLedgerWhole, openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api } from './http';

/** What an outsider (or one careless insider) tried against the trust boundaries, kept as cases. */
describe('trust boundaries under attack', () => {
  let stack: Stack;
  let api: Api;
  // The platform's payment API fails while this is set: a credit's step then retries, never finishing in time.
  let platformDown = false;
  beforeAll(async () => {
    stack = await startStack(
      { API_RATE_LIMIT_PER_MINUTE: '10000', API_UPDATE_WAIT_MS: '1000' },
      {
        wrapPlatform: (platform: PlatformClient) => ({
          ...platform,
          payment: async (paymentId: string) => {
            if (platformDown) throw new Error('the payment platform is unavailable');
            return platform.payment(paymentId);
          },
        }),
      },
    );
    api = apiFor(stack);
  });
  afterEach(() => {
    platformDown = false;
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const balance = async (shopId: string) => (await api.get(`/v1/shops/${shopId}/deposit`, staff.finance)).body.balanceFen as number;
  const offlinePath = (shopId: string) => `/v1/shops/${shopId}/deposit/offline-top-ups`;
  /** The body a route documents for a status; a late answer must be one the document promises. */
  const documented = async (path: string, status: number) => (await request(stack.app).get('/openapi.json')).body.paths[path].post.responses[String(status)]?.content['application/json'].schema;

  test('an offline transfer above 100 million CNY is a 400 naming amountFen; exactly the limit is recorded', async () => {
    const { shopId } = await openShop(stack, 'm-attack-cap');
    const transfer = { amountFen: 10_000_000_000, payerAccount: 'icbc:1', transferReference: 'cap-at' };
    // 2^53 − 1 fen, approved, once left every later read of the balance failing (and the deposit process retrying).
    for (const amountFen of [10_000_000_001, Number.MAX_SAFE_INTEGER]) {
      const over = await api.post(offlinePath(shopId), staff.finance, { ...transfer, amountFen, transferReference: `cap-${amountFen}` });
      expect(over.status).toBe(400);
      expect(over.body.issues).toEqual([expect.objectContaining({ path: 'amountFen' })]);
    }
    expect((await api.post(offlinePath(shopId), staff.finance, transfer)).status).toBe(201);
    expect(await stack.db('offline_top_ups').where({ shop_id: shopId }).pluck('amount_fen')).toEqual([10_000_000_000]);
  });

  test('the recorder cannot approve under the same sub spelt in another case, with blanks or in full width', async () => {
    const { shopId } = await openShop(stack, 'm-attack-checker');
    const recorded = await api.post(offlinePath(shopId), staff.finance, { amountFen: 50_000, payerAccount: 'icbc:2', transferReference: 'respelt' });
    expect(recorded.status).toBe(201);
    for (const sub of ['Fang', 'FANG', ' fang', 'fang ', 'ｆａｎｇ']) {
      const approval = await api.post(`${offlinePath(shopId)}/${recorded.body.offlineTopUpId}/approval`, { sub, role: 'admin' }, {});
      expect([sub, approval.status, approval.body.detail]).toEqual([sub, 403, expect.stringContaining('second person')]);
    }
    expect(await stack.db('offline_top_ups').where({ id: recorded.body.offlineTopUpId }).first()).toMatchObject({ status: 'pending_approval', approved_by: null });
    expect(await balance(shopId)).toBe(0);
  });

  test('a signed callback whose credit cannot finish answers 202 with the state in bounded time; the credit lands later, once', async () => {
    const { shopId } = await openShop(stack, 'm-attack-callback');
    const payment = await pay(stack, { shopId, account: 'deposit', amountFen: 50_000 });
    platformDown = true;
    const body = JSON.stringify({ paymentId: payment.paymentId, shopId, status: 'confirmed' });
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await request(stack.app)
      .post('/v1/platform/payment-callbacks')
      .set('Content-Type', 'application/json')
      .set('X-Platform-Timestamp', String(timestamp))
      .set('X-Platform-Signature', signPlatformCallback(stack.config.PLATFORM_CALLBACK_SECRET, timestamp, body))
      .send(body)
      // Far above API_UPDATE_WAIT_MS (1 s here): only a request that never answers runs into it.
      .timeout(20_000);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'accepted', accepted: true, state: expect.objectContaining({ balanceFen: 0 }) });
    expect(schemaProblem(await documented('/v1/platform/payment-callbacks', 202), res.body)).toBeUndefined();
    platformDown = false;
    await eventually(() => balance(shopId), (fen) => fen === 50_000, 30_000);
    expect(await stack.db('deposit_payments').where({ payment_id: payment.paymentId })).toHaveLength(1);
    await expectLedgerWhole(stack, shopId);
  });

  test('an offline approval whose credit cannot finish answers 202 with the state in bounded time', async () => {
    const { shopId } = await openShop(stack, 'm-attack-approval');
    const recorded = await api.post(offlinePath(shopId), staff.finance, { amountFen: 50_000, payerAccount: 'icbc:3', transferReference: 'slow' });
    // The credit's step cannot write its payment row (a retryable error) until the table is back.
    await asOwner(stack.db, 'ALTER TABLE deposit_payments RENAME TO deposit_payments_away');
    let approval;
    try {
      approval = await request(stack.app)
        .post(`${offlinePath(shopId)}/${recorded.body.offlineTopUpId}/approval`)
        .set('Authorization', `Bearer ${await stack.token(staff.admin)}`)
        .send({})
        .timeout(20_000);
    } finally {
      await asOwner(stack.db, 'ALTER TABLE deposit_payments_away RENAME TO deposit_payments');
    }
    expect(approval.status).toBe(202);
    expect(approval.body).toMatchObject({ status: 'accepted', state: expect.objectContaining({ balanceFen: 0 }) });
    expect(schemaProblem(await documented('/v1/shops/{shopId}/deposit/offline-top-ups/{offlineTopUpId}/approval', 202), approval.body)).toBeUndefined();
    expect(await stack.db('offline_top_ups').where({ id: recorded.body.offlineTopUpId }).first()).toMatchObject({ status: 'approved', approved_by: 'ada' });
    await eventually(() => balance(shopId), (fen) => fen === 50_000, 30_000);
    await expectLedgerWhole(stack, shopId);
  });

  test('a body nested 50,000 levels deep is a 400, not a 500', async () => {
    const depth = 50_000;
    const res = await request(stack.app)
      .post('/v1/verifications')
      .set('Authorization', `Bearer ${await stack.token(merchant('m-attack-deep'))}`)
      .set('Content-Type', 'application/json')
      .send(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_request', issues: [expect.objectContaining({ message: expect.stringContaining('nested deeper') })] });
  });
});
