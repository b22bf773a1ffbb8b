import request from 'supertest';
import type { TokenClaims } from '../../security/tokens';
import { eventually } from '../support/fixtures';
import { pay } from '../support/payments';
import { expectLedgerWhole, openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { merchant, staff, type AuditRow } from './http';

const REPLAYED = 'idempotent-replayed';

/**
 * Every POST that creates or moves money accepts an Idempotency-Key: the same key and body
 * answer the first answer (and move money once), another body is a 409, keys are per caller.
 */
describe('Idempotency-Key on the money routes', () => {
  let stack: Stack;
  const owner = 'm-idem';
  let shopId: string;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    ({ shopId } = await openShop(stack, owner));
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const post = async (path: string, who: TokenClaims, body: object, key?: string) => {
    const req = request(stack.app).post(path).set('Authorization', `Bearer ${await stack.token(who)}`);
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
  };
  const movements = (kind: string) => stack.db('ledger_transactions').where({ shop_id: shopId, kind });

  /** The same request twice under one key: the first answer again, marked, and its audit rows name the replay. */
  async function expectReplayed(path: string, who: TokenClaims, body: object, key: string, status: number) {
    const first = await post(path, who, body, key);
    expect(first.status).toBe(status);
    expect(first.headers[REPLAYED]).toBeUndefined();
    const again = await post(path, who, body, key);
    expect({ status: again.status, body: again.body, replayed: again.headers[REPLAYED] }).toEqual({ status, body: first.body, replayed: 'true' });
    const requestId = again.headers['x-request-id'] as string;
    const audit = await eventually(
      () => stack.db<AuditRow>('audit_log').where({ request_id: requestId }).orderBy('id'),
      (rows) => rows.length === 2,
    );
    const firstOutcome = await stack.db<AuditRow>('audit_log').where({ request_id: first.headers['x-request-id'] as string }).whereNot({ outcome: 'attempted' }).first();
    expect(audit[1]).toMatchObject({ action: firstOutcome!.action, target: firstOutcome!.target, status_code: status, details: expect.objectContaining({ idempotentReplay: true }) });
    return first;
  }

  test('a top-up: replayed under its key, credited once; another payment under the key is a 409; another caller\'s key is its own', async () => {
    const { paymentId } = await pay(stack, { shopId, account: 'deposit', amountFen: 60_000 });
    const path = `/v1/shops/${shopId}/deposit/top-ups`;
    const first = await expectReplayed(path, merchant(owner), { paymentId }, 'topup-1', 200);
    expect(first.body).toMatchObject({ creditedFen: 60_000, replayed: false });
    expect(await movements('top_up')).toHaveLength(1);

    const { paymentId: another } = await pay(stack, { shopId, account: 'deposit', amountFen: 1_000 });
    const reused = await post(path, merchant(owner), { paymentId: another }, 'topup-1');
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await movements('top_up')).toHaveLength(1);

    // Finance's 'topup-1' is not the merchant's: it runs, and the payment is still credited once.
    const byFinance = await post(path, staff.finance, { paymentId }, 'topup-1');
    expect(byFinance.status).toBe(200);
    expect(byFinance.headers[REPLAYED]).toBeUndefined();
    expect(byFinance.body).toMatchObject({ replayed: true });
    expect(await movements('top_up')).toHaveLength(1);
    await expectLedgerWhole(stack, shopId);
  });

  test('a deduction: replayed, one movement; concurrent duplicates move money once; two callers with one key each act', async () => {
    const path = `/v1/shops/${shopId}/deposit/deductions`;
    const before = (await movements('deduction')).length;
    await expectReplayed(path, staff.finance, { amountFen: 1_000, reason: 'late shipment', reference: 'idem-d1' }, 'deduct-1', 200);
    expect(await movements('deduction')).toHaveLength(before + 1);
    expect((await post(path, staff.finance, { amountFen: 2_000, reason: 'late shipment', reference: 'idem-d1b' }, 'deduct-1')).status).toBe(409);

    const body = { amountFen: 500, reason: 'late shipment', reference: 'idem-d2' };
    const burst = await Promise.all(Array.from({ length: 5 }, () => post(path, staff.finance, body, 'deduct-2')));
    for (const r of burst) expect([200, 409]).toContain(r.status);
    expect(burst.filter((r) => r.status === 200)).not.toHaveLength(0);
    expect(await movements('deduction')).toHaveLength(before + 2);

    const ops = await post(path, staff.ops, { amountFen: 300, reason: 'late shipment', reference: 'idem-d3a' }, 'deduct-3');
    const finance = await post(path, staff.finance, { amountFen: 400, reason: 'late shipment', reference: 'idem-d3b' }, 'deduct-3');
    expect([ops.status, finance.status]).toEqual([200, 200]);
    expect(await movements('deduction')).toHaveLength(before + 4);
    await expectLedgerWhole(stack, shopId);
  });

  test('an offline transfer and its approval: the key replays the record (not a 409) and the credit', async () => {
    const path = `/v1/shops/${shopId}/deposit/offline-top-ups`;
    const transfer = { account: 'deposit', amountFen: 20_000, payerAccount: 'icbc:6222-0009', transferReference: 'icbc-idem-1' };
    const recorded = await expectReplayed(path, staff.finance, transfer, 'offline-1', 201);
    expect(await stack.db('offline_top_ups').where({ shop_id: shopId, transfer_reference: 'icbc-idem-1' })).toHaveLength(1);
    const before = (await movements('top_up')).length;
    await expectReplayed(`${path}/${recorded.body.offlineTopUpId}/approval`, staff.admin, {}, 'approve-1', 200);
    expect(await movements('top_up')).toHaveLength(before + 1);
  });

  test('a settlement run and a fee rate: the first answer again, not "running" or a 409', async () => {
    await expectReplayed('/v1/settlements', staff.finance, { period: '2026-09' }, 'settle-1', 202);
    const rate = { category: 'idem-cat', unionFeeBp: 1_000, channelShareBp: 300, effectiveFrom: '2026-01-01' };
    await expectReplayed('/v1/fee-rates', staff.finance, rate, 'rate-1', 201);
    expect(await stack.db('fee_rates').where({ category: 'idem-cat' })).toHaveLength(1);
  });

  test('a violation and an appeal decision replay their first answers', async () => {
    const body = { merchantId: owner, shopId, type: 'other', level: 'general', evidence: { summary: 'cited by ops', productIds: [] } };
    const opened = await expectReplayed('/v1/violations', staff.ops, body, 'vio-idem-1', 201);
    expect(await stack.db('violation_cases').where({ reference: 'vio-idem-1' })).toHaveLength(1);
    const caseId = opened.body.caseId as string;
    await eventually(
      async () => (await request(stack.app).get(`/v1/violations/${caseId}`).set('Authorization', `Bearer ${await stack.token(staff.ops)}`)).body,
      (c) => c.status === 'appealable',
    );
    expect((await post(`/v1/violations/${caseId}/appeal`, merchant(owner), { statement: 'not ours' })).status).toBe(200);
    await expectReplayed(`/v1/violations/${caseId}/appeal-decision`, staff.reviewer, { decision: 'rejected', reasons: ['confirmed'] }, 'decide-1', 200);
  });

  test('a promotion withdrawal refused for good, then a closure: each answer replayed', async () => {
    const refused = await expectReplayed(`/v1/shops/${shopId}/promotion/excess-withdrawal`, merchant(owner), {}, 'withdraw-1', 409);
    expect(refused.body.retryable).not.toBe(true);
    await expectReplayed(`/v1/shops/${shopId}/closure`, merchant(owner), {}, 'close-1', 202);
    // Without the key the same request is a new one: the closure is already active.
    expect((await post(`/v1/shops/${shopId}/closure`, merchant(owner), {})).status).toBe(409);
  });

  test('the OpenAPI document names the header on every money route', async () => {
    const doc = (await request(stack.app).get('/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>> };
    const money = [
      '/v1/shops/{shopId}/deposit/top-ups',
      '/v1/shops/{shopId}/deposit/deductions',
      '/v1/shops/{shopId}/deposit/offline-top-ups',
      '/v1/shops/{shopId}/deposit/offline-top-ups/{offlineTopUpId}/approval',
      '/v1/shops/{shopId}/closure',
      '/v1/shops/{shopId}/promotion/closure',
      '/v1/shops/{shopId}/promotion/excess-withdrawal',
      '/v1/settlements',
      '/v1/fee-rates',
      '/v1/violations',
      '/v1/violations/{caseId}/appeal-decision',
    ];
    for (const path of money) {
      expect({ path, headers: (doc.paths[path]?.post?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name) }).toEqual({ path, headers: ['idempotency-key'] });
    }
  });
});
