import request from 'supertest';
import { residentIdOf } from '../support/fixtures';
import { bindingApi, bindingState, MERCHANT_NAME, merchantClaims } from '../support/bindings';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

/**
 * The binding process as the dev stack runs it: the HTTP partner gateway against the sandbox's
 * partner endpoints (OAuth over real redirects, token rotation, revocation, injected faults),
 * not the in-memory fake the other binding tests use.
 */
jest.setTimeout(180_000);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({}, { partners: 'sandbox' });
});
afterAll(async () => {
  await stack?.teardown();
});

const sandbox = () => request(stack.sandbox.url);
const PLATFORM_AUTH = { Authorization: 'Bearer test-platform-token' };
const entityOf = (merchantId: string) => ({ kind: 'individual', name: MERCHANT_NAME, idNumber: residentIdOf(merchantId) });
const workflowIdOf = async (bindingId: string) => (await stack.db('store_bindings').where({ id: bindingId }).first()).workflow_id as string;
/** The refreshes the sandbox answered with new tokens. */
const refreshesAnswered = async () => {
  const calls = (await sandbox().get('/v1/calls').query({ path: '/partners/youzan/oauth/token' }).set(PLATFORM_AUTH).expect(200)).body as { calls: Array<{ body: Record<string, unknown>; status: number }> };
  return calls.calls.filter((c) => c.body.grant_type === 'refresh_token' && c.status === 200).length;
};

/** The merchant's consent on the sandbox's Youzan page, followed through its redirect to our callback. */
async function consentAndReturn(authorizeUrl: string, storeId: string) {
  const consent = await fetch(`${authorizeUrl}&store_id=${encodeURIComponent(storeId)}`, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const back = new URL(consent.headers.get('location')!);
  expect(back.pathname).toBe('/v1/bindings/oauth/youzan/callback');
  return bindingApi(stack).callback(Object.fromEntries(back.searchParams));
}

test('Youzan over HTTP: consent by redirect, refreshed for weeks under injected faults, revoked, re-authorised', async () => {
  const merchantId = 'm-bind-http';
  const storeId = 'yz-http-1';
  await openShop(stack, merchantId);
  await sandbox().put(`/partners/_stores/youzan/${storeId}`).send({ storeName: 'yz', entity: entityOf(merchantId) }).expect(200);
  const api = bindingApi(stack);

  const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId, level: 'custom' });
  expect(started.status).toBe(201);
  expect(started.body.authorizeUrl).toContain(`${stack.sandbox.url}/partners/youzan/oauth/authorize?`);
  const bound = await consentAndReturn(started.body.authorizeUrl, storeId);
  expect(bound.body).toMatchObject({ status: 'bound', permissionLevel: 'custom' });
  const { bindingId } = started.body as { bindingId: string };
  const workflowId = await workflowIdOf(bindingId);

  // One call in three fails with 503 before the partner acts: the refreshes retry through it.
  await sandbox().put('/v1/_settings').set(PLATFORM_AUTH).send({ errorRate: 0.33 }).expect(200);
  await stack.env.sleep('20 days');
  const later = await bindingState(stack, workflowId, (s) => (s.grant?.refreshedTimes ?? 0) >= 3);
  await sandbox().put('/v1/_settings').set(PLATFORM_AUTH).send({ errorRate: 0 }).expect(200);
  expect(later.status).toBe('bound');
  expect(await refreshesAnswered()).toBe(later.grant!.refreshedTimes);

  // The merchant cancels the grant on Youzan's side: the next refresh is refused for good.
  await sandbox().post('/partners/_youzan/revocations').send({ storeId }).expect(200);
  await stack.env.sleep('7 days');
  const lost = await bindingState(stack, workflowId, (s) => s.status === 'needs_reauth');
  expect(lost.status).toBe('needs_reauth');
  expect(await stack.db('store_bindings').where({ id: bindingId }).first()).toMatchObject({ status: 'needs_reauth', sync_enabled: false });

  const again = await api.post(`/v1/bindings/${bindingId}/reauthorisation`, merchantClaims(merchantId));
  expect(again.status).toBe(200);
  expect((await consentAndReturn(again.body.authorizeUrl, storeId)).body).toMatchObject({ status: 'bound' });
  expect(await stack.db('store_bindings').where({ id: bindingId }).first()).toMatchObject({ status: 'bound', sync_enabled: true });
});

test('Taobao over HTTP: a sub-account authorisation is refused by name, the main account binds', async () => {
  const merchantId = 'm-bind-http-tb';
  const storeId = 'tb-http-1';
  const pid = 'mm_1001_2002_3003';
  await openShop(stack, merchantId);
  await sandbox().put(`/partners/_stores/taobao/${storeId}`).send({ storeName: 'tb', entity: entityOf(merchantId), taobaokeOpen: true }).expect(200);
  const api = bindingApi(stack);
  const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'taobao', storeId, pid });
  expect(started.status).toBe(201);
  const complete = `/v1/bindings/${started.body.bindingId}/union-authorisation`;

  await sandbox().put('/partners/_taobao-union/authorisations').send({ platform: 'taobao', storeId, pid, account: 'sub', positionType: 'content_scene' }).expect(200);
  expect((await api.post(complete, merchantClaims(merchantId))).body).toMatchObject({ refusal: 'sub_account_authorisation' });

  await sandbox().put('/partners/_taobao-union/authorisations').send({ platform: 'taobao', storeId, pid, account: 'main', positionType: 'content_scene' }).expect(200);
  expect((await api.post(complete, merchantClaims(merchantId))).body).toMatchObject({ status: 'bound' });
});
