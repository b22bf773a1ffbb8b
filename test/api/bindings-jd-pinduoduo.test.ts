import { createFakePartnerGateway } from '../support/partner-gateway-fake';
import { bindingApi, bindingState, merchantClaims, seedPartnerStores } from '../support/bindings';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

/**
 * JD Union (self-operated product links) and Pinduoduo (commission-only promotion) bind with
 * their own ids and their own checks: each completed end to end through the API, and each
 * refused by its own named check, with nothing bound or kept.
 */
jest.setTimeout(180_000);

const fake = createFakePartnerGateway();
let stack: Stack;
let api: ReturnType<typeof bindingApi>;

beforeAll(async () => {
  stack = await startStack({}, { partners: fake });
  api = bindingApi(stack);
});
afterAll(async () => {
  await stack?.teardown();
});

const rowOf = (bindingId: string) => stack.db('store_bindings').where({ id: bindingId }).first();
const bindingsOf = (merchantId: string) => stack.db('store_bindings').where({ merchant_id: merchantId });
const secretsOf = (bindingId: string) => stack.db('partner_secrets').where({ binding_id: bindingId });
const auditOf = (bindingId: string) =>
  stack
    .db('audit_log')
    .where({ target: `binding:${bindingId}` })
    .whereNot({ outcome: 'attempted' })
    .orderBy('id')
    .then((rows) => rows.map((r) => `${r.action}:${r.status_code}`));

/** The row and the process still wait for the merchant: not bound, no sync, no secret, the refusal named. */
async function expectStillWaiting(bindingId: string, refusal: string) {
  expect(await rowOf(bindingId)).toMatchObject({ status: 'authorising', refusal, sync_enabled: false, bound_at: null, access_expires_at: null });
  expect(await secretsOf(bindingId)).toHaveLength(0);
  const state = await bindingState(stack, (await rowOf(bindingId)).workflow_id);
  expect(state).toMatchObject({ status: 'authorising', lastRefusal: { code: refusal } });
}

describe('JD Union', () => {
  test('a self-operated store whose union id is authorised binds end to end: bound, sync on, audited', async () => {
    const merchantId = 'm-bind-jd';
    await openShop(stack, merchantId);
    const { jd } = seedPartnerStores(fake, merchantId);

    const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: jd, unionId: '4242' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ status: 'authorising', platform: 'jd', unionId: '4242', pid: null, workflowId: `binding:jd:${jd}`, authorizeUrl: null });
    const bindingId = started.body.bindingId as string;

    fake.jdAnswers.set(jd, { unionId: '4242', status: 'authorised', selfOperated: true });
    const bound = await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId));
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ bindingId, status: 'bound', syncEnabled: true, refusal: null, unionId: '4242', boundAt: expect.any(String) });

    expect(await rowOf(bindingId)).toMatchObject({ status: 'bound', sync_enabled: true, refusal: null, union_id: '4242', pid: null });
    expect(await bindingState(stack, `binding:jd:${jd}`, (s) => s.status === 'bound')).toMatchObject({ status: 'bound', lastRefusal: null, grant: null });
    // A union binding holds no token: nothing goes into the secrets vault.
    expect(await secretsOf(bindingId)).toHaveLength(0);
    expect(await auditOf(bindingId)).toEqual(['binding.start:201', 'binding.union_authorisation:200']);
    expect((await api.get(`/v1/bindings/${bindingId}`, merchantClaims(merchantId))).body).toMatchObject({ status: 'bound', platform: 'jd' });
  });

  test('a store that is not self-operated is refused as not_self_operated (422), even with the union id authorised; nothing is bound', async () => {
    const merchantId = 'm-bind-jd-pop';
    await openShop(stack, merchantId);
    const { jd } = seedPartnerStores(fake, merchantId);
    const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: jd, unionId: '777' });
    expect(started.status).toBe(201);
    const bindingId = started.body.bindingId as string;

    fake.jdAnswers.set(jd, { unionId: '777', status: 'authorised', selfOperated: false });
    const refused = await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId));
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'binding_refused', refusal: 'not_self_operated', detail: expect.stringContaining('self-operated') });
    await expectStillWaiting(bindingId, 'not_self_operated');
    expect(await bindingsOf(merchantId)).toHaveLength(1);
    expect(await auditOf(bindingId)).toEqual(['binding.start:201', 'binding.union_authorisation:422']);

    // Its own check, not the generic one: a self-operated store whose id is not authorised is told that instead.
    fake.jdAnswers.set(jd, { unionId: '777', status: 'not_authorised', selfOperated: true });
    expect((await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId))).body).toMatchObject({ refusal: 'pid_not_authorised' });
    await expectStillWaiting(bindingId, 'pid_not_authorised');
  });
});

describe('Pinduoduo', () => {
  test('a commission-only position whose PID is authorised binds end to end: bound, sync on, audited', async () => {
    const merchantId = 'm-bind-pdd';
    await openShop(stack, merchantId);
    const { pinduoduo } = seedPartnerStores(fake, merchantId);

    const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'pinduoduo', storeId: pinduoduo, pid: '1001_2002' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ status: 'authorising', platform: 'pinduoduo', pid: '1001_2002', unionId: null, workflowId: `binding:pinduoduo:${pinduoduo}`, authorizeUrl: null });
    const bindingId = started.body.bindingId as string;

    fake.pinduoduoAnswers.set(pinduoduo, { pid: '1001_2002', status: 'authorised', commissionOnly: true });
    const bound = await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId));
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ bindingId, status: 'bound', syncEnabled: true, refusal: null, pid: '1001_2002', boundAt: expect.any(String) });

    expect(await rowOf(bindingId)).toMatchObject({ status: 'bound', sync_enabled: true, refusal: null, pid: '1001_2002', union_id: null });
    expect(await bindingState(stack, `binding:pinduoduo:${pinduoduo}`, (s) => s.status === 'bound')).toMatchObject({ status: 'bound', lastRefusal: null, grant: null });
    expect(await secretsOf(bindingId)).toHaveLength(0);
    expect(await auditOf(bindingId)).toEqual(['binding.start:201', 'binding.union_authorisation:200']);
  });

  test('a position that is not commission-only is refused as not_commission_only (422), even with the PID authorised; nothing is bound', async () => {
    const merchantId = 'm-bind-pdd-cps';
    await openShop(stack, merchantId);
    const { pinduoduo } = seedPartnerStores(fake, merchantId);
    const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'pinduoduo', storeId: pinduoduo, pid: '31_41' });
    expect(started.status).toBe(201);
    const bindingId = started.body.bindingId as string;

    fake.pinduoduoAnswers.set(pinduoduo, { pid: '31_41', status: 'authorised', commissionOnly: false });
    const refused = await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId));
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'binding_refused', refusal: 'not_commission_only', detail: expect.stringContaining('commission-only') });
    await expectStillWaiting(bindingId, 'not_commission_only');
    expect(await bindingsOf(merchantId)).toHaveLength(1);
    expect(await auditOf(bindingId)).toEqual(['binding.start:201', 'binding.union_authorisation:422']);

    fake.pinduoduoAnswers.set(pinduoduo, { pid: '31_41', status: 'not_authorised', commissionOnly: true });
    expect((await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId))).body).toMatchObject({ refusal: 'pid_not_authorised' });
    await expectStillWaiting(bindingId, 'pid_not_authorised');

    // Once the merchant switches the position to commission-only, the same binding completes.
    fake.pinduoduoAnswers.set(pinduoduo, { pid: '31_41', status: 'authorised', commissionOnly: true });
    expect((await api.post(`/v1/bindings/${bindingId}/union-authorisation`, merchantClaims(merchantId))).body).toMatchObject({ status: 'bound', refusal: null });
  });
});
