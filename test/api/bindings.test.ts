import { storeKey, createFakePartnerGateway } from '../support/partner-gateway-fake';
import { bindingApi, bindingState, bindYouzan, merchantClaims, seedPartnerStores } from '../support/bindings';
import { eventually, residentIdOf } from '../support/fixtures';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { caseState, openViolation } from '../support/violations';
import { staff } from './http';
import request from 'supertest';
import pino from 'pino';
import { createApp } from '../../api/app';
import { piiVaultFrom } from '../../security/pii';
import { createStoreBindingActivities } from '../../activities/store-binding';
import { createPartnerSecrets } from '../../db/repositories/partner-secrets';
import { ErrorType } from '../../domain/errors';

jest.setTimeout(180_000);

const fake = createFakePartnerGateway();
let stack: Stack;
let api: ReturnType<typeof bindingApi>;
/** Every answer the API gave in this file, to look for secrets in. */
const answers: string[] = [];

beforeAll(async () => {
  stack = await startStack({}, { partners: fake });
  api = bindingApi(stack);
});
afterAll(async () => {
  await stack?.teardown();
});

const seen = <T extends { body: unknown; text?: string }>(res: T): T => {
  answers.push(JSON.stringify(res.body));
  return res;
};
const bindingsOf = (merchantId: string) => stack.db('store_bindings').where({ merchant_id: merchantId });
const liveTokensOf = (bindingId: string) => stack.db('partner_secrets').where({ binding_id: bindingId }).whereNull('retired_at').whereIn('kind', ['access_token', 'refresh_token']);
const auditOf = (target: string) => stack.db('audit_log').where({ target }).whereNot({ outcome: 'attempted' }).orderBy('id');

describe('starting a binding: checked before anything is saved', () => {
  const merchantId = 'm-bind-api';
  let stores: ReturnType<typeof seedPartnerStores>;
  beforeAll(async () => {
    await openShop(stack, merchantId);
    stores = seedPartnerStores(fake, merchantId);
  });

  test.each([
    ['mm_1_2', 'taobao'],
    ['mm_1_2_x', 'tmall'],
    ['MM_1_2_3', 'taobao'],
    ['mm_1_2_3', 'pinduoduo'],
  ])('a malformed PID %j on %s is a 422 pid_malformed, and nothing is saved', async (pid, platform) => {
    const res = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform, storeId: stores.taobao, pid }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'binding_refused', refusal: 'pid_malformed' });
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(await bindingsOf(merchantId)).toHaveLength(0);
  });

  test("a store held by another entity is refused naming the fields that differ, never their values", async () => {
    const otherId = '11010519491231002X';
    fake.stores.set(storeKey('taobao', 'tb-other'), { platform: 'taobao', storeId: 'tb-other', storeName: 'x', entity: { kind: 'individual', name: '李四', idNumber: otherId }, taobaokeOpen: true });
    const res = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'taobao', storeId: 'tb-other', pid: 'mm_1_2_3' }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ refusal: 'entity_mismatch', fields: ['name', 'idNumber'] });
    expect(JSON.stringify(res.body)).not.toContain(otherId);
    expect(JSON.stringify(res.body)).not.toContain(residentIdOf(merchantId));
    fake.stores.set(storeKey('taobao', 'tb-company'), { platform: 'taobao', storeId: 'tb-company', storeName: 'x', entity: { kind: 'enterprise', name: '张三', uscc: '91350100M000100Y43' }, taobaokeOpen: true });
    const kind = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'taobao', storeId: 'tb-company', pid: 'mm_1_2_3' }));
    expect(kind.body).toMatchObject({ refusal: 'entity_mismatch', fields: ['kind'] });
    expect(await bindingsOf(merchantId)).toHaveLength(0);
  });

  test('an unverified merchant, or an unknown store, is refused by name', async () => {
    const unverified = seen(await api.post('/v1/bindings', merchantClaims('m-bind-nobody'), { platform: 'jd', storeId: 'jd-1', unionId: '1001' }));
    expect(unverified.body).toMatchObject({ refusal: 'merchant_not_verified' });
    const unknown = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: 'jd-nowhere', unionId: '1001' }));
    expect(unknown.body).toMatchObject({ refusal: 'store_not_found' });
  });

  test("Taobao: a sub-account's authorisation is refused with its reason and the binding waits; the main account's binds it", async () => {
    const started = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'taobao', storeId: stores.taobao, pid: 'mm_11_22_33' }));
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ status: 'authorising', workflowId: `binding:taobao:${stores.taobao}`, authorizeUrl: null });
    const bindingId = started.body.bindingId as string;
    const path = `/v1/bindings/${bindingId}/union-authorisation`;

    fake.unionAnswers.set(storeKey('taobao', stores.taobao), { pid: 'mm_11_22_33', status: 'authorised', account: 'sub', positionType: 'content_scene' });
    const sub = seen(await api.post(path, merchantClaims(merchantId)));
    expect(sub.status).toBe(422);
    expect(sub.body).toMatchObject({ code: 'binding_refused', refusal: 'sub_account_authorisation', detail: expect.stringContaining('main account') });
    expect((await api.get(`/v1/bindings/${bindingId}`, merchantClaims(merchantId))).body).toMatchObject({ status: 'authorising', refusal: 'sub_account_authorisation' });

    fake.unionAnswers.set(storeKey('taobao', stores.taobao), { pid: 'mm_11_22_33', status: 'authorised', account: 'main', positionType: 'other' });
    expect(seen(await api.post(path, merchantClaims(merchantId))).body).toMatchObject({ refusal: 'position_not_content_scene' });

    fake.unionAnswers.set(storeKey('taobao', stores.taobao), { pid: 'mm_11_22_33', status: 'authorised', account: 'main', positionType: 'content_scene' });
    const bound = seen(await api.post(path, merchantClaims(merchantId)));
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ status: 'bound', syncEnabled: true, refusal: null });

    // One live binding per store.
    const twice = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'taobao', storeId: stores.taobao, pid: 'mm_11_22_33' }));
    expect(twice.status).toBe(409);

    const actions = (await auditOf(`binding:${bindingId}`)).map((r) => `${r.action}:${r.status_code}`);
    expect(actions).toEqual(['binding.start:201', 'binding.union_authorisation:422', 'binding.union_authorisation:422', 'binding.union_authorisation:200']);
  });
});

describe('the Youzan OAuth callback', () => {
  const merchantId = 'm-bind-oauth';
  let stores: ReturnType<typeof seedPartnerStores>;
  beforeAll(async () => {
    await openShop(stack, merchantId);
    stores = seedPartnerStores(fake, merchantId);
  });

  test('a state this API never issued, a used one and an expired one are refused; the right one binds once', async () => {
    const started = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: stores.youzan, level: 'advanced' }));
    expect(started.status).toBe(201);
    const state = api.stateOf(started.body.authorizeUrl);
    // Only its hash is kept.
    expect(JSON.stringify(await stack.db('binding_oauth_states'))).not.toContain(state);

    const forged = seen(await api.callback({ code: fake.consent(stores.youzan, 'advanced'), state: 'A'.repeat(43) }));
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ code: 'invalid_oauth_state' });

    const bound = seen(await api.callback({ code: fake.consent(stores.youzan, 'advanced'), state }));
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ status: 'bound', permissionLevel: 'advanced', accessExpiresAt: expect.any(String) });

    const reused = seen(await api.callback({ code: fake.consent(stores.youzan, 'advanced'), state }));
    expect(reused.status).toBe(400);

    const bindingId = started.body.bindingId as string;
    const again = seen(await api.post(`/v1/bindings/${bindingId}/reauthorisation`, merchantClaims(merchantId)));
    expect(again.status).toBe(409);
    await stack.db('binding_oauth_states').insert({ state_hash: 'x'.repeat(64), binding_id: bindingId, expires_at: new Date(Date.now() - 1000) });
    const expired = seen(await api.callback({ code: 'c', state: 'B'.repeat(43) }));
    expect(expired.status).toBe(400);

    const callbacks = await stack.db('audit_log').where({ action: 'binding.oauth_callback' }).orderBy('id');
    expect(callbacks.map((r) => r.status_code)).toEqual([400, 200, 400, 400]);
  });
});

describe("another merchant's binding, reads, lists and unbinding", () => {
  const owner = 'm-bind-owner';
  let bindingId: string;
  beforeAll(async () => {
    await openShop(stack, owner);
    bindingId = await bindYouzan(stack, fake, owner, seedPartnerStores(fake, owner).youzan);
  });

  test('is answered as missing to another merchant', async () => {
    const other = merchantClaims('m-bind-stranger');
    expect(seen(await api.get(`/v1/bindings/${bindingId}`, other)).status).toBe(404);
    expect(seen(await api.post(`/v1/bindings/${bindingId}/unbind`, other, { reason: 'x' })).status).toBe(404);
    expect(seen(await api.get(`/v1/bindings?merchantId=${owner}`, other)).status).toBe(404);
  });

  test('reads show status, level and expiry, never a token; lists page by cursor; staff filter by status', async () => {
    const read = seen(await api.get(`/v1/bindings/${bindingId}`, merchantClaims(owner)));
    expect(read.body).toMatchObject({ bindingId, status: 'bound', platform: 'youzan', permissionLevel: 'basic', accessExpiresAt: expect.any(String) });
    const mine = seen(await api.get('/v1/bindings?limit=1', merchantClaims(owner)));
    expect(mine.body.items.map((b: { merchantId: string }) => b.merchantId)).toEqual([owner]);
    const bound = seen(await api.get('/v1/bindings?status=bound&limit=1', staff.ops));
    expect(bound.body.items).toHaveLength(1);
    expect(bound.body.nextCursor).toEqual(expect.any(String));
    const next = seen(await api.get(`/v1/bindings?status=bound&limit=1&cursor=${bound.body.nextCursor}`, staff.ops));
    expect(next.body.items[0].bindingId).not.toBe(bound.body.items[0].bindingId);
  });

  test('the merchant unbinds: audited, sync off', async () => {
    const res = seen(await api.post(`/v1/bindings/${bindingId}/unbind`, merchantClaims(owner), { reason: 'closing the Youzan store' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'unbound', syncEnabled: false });
    expect((await auditOf(`binding:${bindingId}`)).map((r) => r.action)).toEqual(expect.arrayContaining(['binding.start', 'binding.unbind']));
  });
});

describe('enforcement', () => {
  test("a qualification violation closes the shop's API permission: every live binding is unbound for good and the shop may not bind again", async () => {
    const merchantId = 'm-bind-enforced';
    const { shopId } = await openShop(stack, merchantId);
    const stores = seedPartnerStores(fake, merchantId);
    const youzanId = await bindYouzan(stack, fake, merchantId, stores.youzan);
    const jd = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: stores.jd, unionId: '4242' }));
    expect(jd.status).toBe(201);

    const c = await openViolation(stack, { merchantId, shopId, type: 'qualification_mismatch', level: 'general' });
    await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    for (const id of [youzanId, jd.body.bindingId as string]) {
      const row = await eventually(() => stack.db('store_bindings').where({ id }).first(), (r) => r.status === 'unbound');
      expect(row).toMatchObject({ closed_for_good: true, sync_enabled: false, unbound_by: 'enforcement' });
      await bindingState(stack, row.workflow_id, (s) => s.status === 'unbound' && s.unboundBy === 'enforcement');
    }
    const refused = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: stores.youzan }));
    expect(refused.body).toMatchObject({ refusal: 'api_permission_closed' });
    // An upheld appeal lifts disable_api: binding is allowed again, the closed rows stay closed.
    await stack.db('shop_restrictions').where({ shop_id: shopId, restriction: 'disable_api' }).delete();
    const again = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: stores.jd, unionId: '4242' }));
    expect(again.status).toBe(201);
    expect(await stack.db('store_bindings').where({ id: youzanId }).first()).toMatchObject({ status: 'unbound', closed_for_good: true });
  });

  test('the OAuth callback documents every answer it gives, 202 and 429 included', async () => {
    const doc = (await request(stack.app).get('/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/bindings/oauth/youzan/callback'].get.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '409', '422', '429', '503']));
  });
});

test('no answer of this file carried a token, a code or an identity number', () => {
  const all = answers.join('\n');
  expect(answers.length).toBeGreaterThan(20);
  for (const secret of fake.issued) expect(all).not.toContain(secret);
  for (const merchantId of ['m-bind-api', 'm-bind-oauth', 'm-bind-owner', 'm-bind-enforced']) expect(all).not.toContain(residentIdOf(merchantId));
});

describe('review: stale ids, permission, races, logs, shapes', () => {
  test('an old binding id acts on its own run only: unbinding b1 once the store is bound again as b2 is a 409, and b2 stays bound', async () => {
    const merchantId = 'm-bind-stale';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const b1 = await bindYouzan(stack, fake, merchantId, youzan);
    expect(seen(await api.post(`/v1/bindings/${b1}/unbind`, merchantClaims(merchantId), { reason: 'first' })).status).toBe(200);
    const b2 = await bindYouzan(stack, fake, merchantId, youzan);
    const stale = seen(await api.post(`/v1/bindings/${b1}/unbind`, merchantClaims(merchantId), { reason: 'stale' }));
    expect(stale.status).toBe(409);
    expect(stale.body.detail).toContain('this binding has ended');
    expect(seen(await api.get(`/v1/bindings/${b2}`, merchantClaims(merchantId))).body).toMatchObject({ status: 'bound' });
    expect(await liveTokensOf(b2)).toHaveLength(2);
  });

  test("an old binding's OAuth state with a fresh code does not authorise the binding that followed it", async () => {
    const merchantId = 'm-bind-stale-state';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const b3 = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan }));
    const oldState = api.stateOf(b3.body.authorizeUrl);
    expect(seen(await api.post(`/v1/bindings/${b3.body.bindingId}/unbind`, merchantClaims(merchantId), { reason: 'x' })).status).toBe(200);
    const b4 = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan }));
    expect(b4.status).toBe(201);
    const late = seen(await api.callback({ code: fake.consent(youzan, 'basic'), state: oldState }));
    expect(late.status).toBe(409);
    expect(seen(await api.get(`/v1/bindings/${b4.body.bindingId}`, merchantClaims(merchantId))).body).toMatchObject({ status: 'authorising' });
    // Nothing of the refused callback stays usable, and its audit row names the binding.
    expect(await stack.db('partner_secrets').where({ binding_id: b3.body.bindingId }).whereNull('retired_at')).toHaveLength(0);
    const audit = await stack.db('audit_log').where({ action: 'binding.oauth_callback', status_code: 409 }).orderBy('id', 'desc').first();
    expect(audit.target).toBe(`binding:${b3.body.bindingId}`);
  });

  test('the shop API permission: refused while disable_api holds it, allowed again once it is lifted; the unbound rows stay unbound', async () => {
    const merchantId = 'm-bind-permission';
    const { shopId } = await openShop(stack, merchantId);
    const { jd } = seedPartnerStores(fake, merchantId);
    await stack.db('shop_restrictions').insert({ shop_id: shopId, restriction: 'disable_api', source: 'closure', since: new Date() });
    const refused = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: jd, unionId: '4242' }));
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ refusal: 'api_permission_closed' });
    expect(await bindingsOf(merchantId)).toHaveLength(0);
    await stack.db('shop_restrictions').where({ shop_id: shopId }).delete();
    const allowed = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'jd', storeId: jd, unionId: '4242' }));
    expect(allowed.status).toBe(201);
  });

  test('concurrent starts for one store: one 201, the others 409 naming the live binding', async () => {
    const merchantId = 'm-bind-race';
    await openShop(stack, merchantId);
    const { pinduoduo } = seedPartnerStores(fake, merchantId);
    const all = await Promise.all([1, 2, 3, 4].map(() => api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'pinduoduo', storeId: pinduoduo, pid: '1_2' })));
    all.forEach(seen);
    const created = all.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of all.filter((x) => x.status !== 201)) expect(r).toMatchObject({ status: 409, body: { bindingId: created[0]!.body.bindingId } });
  });

  test.each([
    ['youzan', { pid: 'mm_1_2_3' }],
    ['youzan', { unionId: '1' }],
    ['taobao', { pid: 'mm_1_2_3', unionId: '1' }],
    ['jd', { unionId: '1', pid: '1_2' }],
  ])('an id %s does not issue (%j) is refused, nothing saved', async (platform, ids) => {
    const merchantId = 'm-bind-foreign-ids';
    await openShop(stack, merchantId).catch(() => undefined);
    const stores = seedPartnerStores(fake, merchantId);
    const res = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform, storeId: stores[platform as 'youzan'] ?? stores.taobao, ...ids }));
    expect([400, 422]).toContain(res.status);
    expect(await bindingsOf(merchantId)).toHaveLength(0);
  });

  test('a consent at another level than asked is refused (level_mismatch), its tokens retired, the binding keeps waiting', async () => {
    const merchantId = 'm-bind-level';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const started = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan, level: 'basic' }));
    const wrong = seen(await api.callback({ code: fake.consent(youzan, 'custom'), state: api.stateOf(started.body.authorizeUrl) }));
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ refusal: 'level_mismatch' });
    expect(await liveTokensOf(started.body.bindingId)).toHaveLength(0);
    const again = seen(await api.post(`/v1/bindings/${started.body.bindingId}/reauthorisation`, merchantClaims(merchantId)));
    const right = seen(await api.callback({ code: fake.consent(youzan, 'basic'), state: api.stateOf(again.body.authorizeUrl) }));
    expect(right.body).toMatchObject({ status: 'bound', permissionLevel: 'basic' });
  });

  test('a new consent link spends the older unused one; a refused callback keeps no code', async () => {
    const merchantId = 'm-bind-restate';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const started = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan }));
    const again = seen(await api.post(`/v1/bindings/${started.body.bindingId}/reauthorisation`, merchantClaims(merchantId)));
    const old = seen(await api.callback({ code: fake.consent(youzan, 'basic'), state: api.stateOf(started.body.authorizeUrl) }));
    expect(old.status).toBe(400);
    const fresh = seen(await api.callback({ code: fake.consent(youzan, 'basic'), state: api.stateOf(again.body.authorizeUrl) }));
    expect(fresh.body).toMatchObject({ status: 'bound' });
    expect(await stack.db('partner_secrets').where({ binding_id: started.body.bindingId, kind: 'authorisation_code' }).whereNull('retired_at')).toHaveLength(0);
  });

  test('the callback never writes its code or state to the request log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const app = createApp({ config: stack.config, db: stack.db, temporal: stack.env.client, logger, vault: piiVaultFrom(stack.config), partners: fake });
    const code = 'LOGGEDCODE0123456789';
    const state = 'S'.repeat(43);
    await request(app).get('/v1/bindings/oauth/youzan/callback').query({ code, state });
    await request(app).get(`/v1/bindings?token=SECRETTOKEN42`);
    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join('\n');
    for (const secret of [code, state, 'SECRETTOKEN42']) expect(all).not.toContain(secret);
  });
});

describe('review: a late result for an ended binding', () => {
  const settings = () => ({ secretsKey: stack.config.PARTNER_SECRETS_KEY, youzanRedirectUri: stack.config.YOUZAN_REDIRECT_URI, refreshLeadSeconds: 86_400 });
  test('an exchange finishing after the unbinding retires what it got and fails for good; a late bound record does not revive the row', async () => {
    const merchantId = 'm-bind-late';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const started = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan }));
    const bindingId = started.body.bindingId as string;
    const acts = createStoreBindingActivities({ db: stack.db, partners: fake, platform: undefined as never, settings: settings() });
    const codeSecretId = await createPartnerSecrets(stack.db, stack.config.PARTNER_SECRETS_KEY).store(bindingId, 'authorisation_code', fake.consent(youzan, 'basic'));
    expect(seen(await api.post(`/v1/bindings/${bindingId}/unbind`, merchantClaims(merchantId), { reason: 'x' })).status).toBe(200);
    const late = await acts.exchangeYouzanCode({ bindingId, codeSecretId }).catch((e: unknown) => e);
    expect(late).toMatchObject({ nonRetryable: true, type: ErrorType.BindingRefused });
    expect(await stack.db('partner_secrets').where({ binding_id: bindingId }).whereNull('retired_at')).toHaveLength(0);
    await acts.recordBindingBound({ bindingId, runId: 'r', asOf: new Date().toISOString() });
    expect(await stack.db('store_bindings').where({ id: bindingId }).first()).toMatchObject({ status: 'unbound', sync_enabled: false });
  });

  test('a malformed grant fails for good (no retry loop) and keeps nothing', async () => {
    const merchantId = 'm-bind-malformed';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const started = seen(await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan }));
    const bindingId = started.body.bindingId as string;
    const partners = { ...fake, youzanExchangeCode: async () => ({ storeId: youzan, accessToken: '', refreshToken: 'r', accessExpiresInSeconds: Number.NaN, refreshExpiresInSeconds: 1, level: 'basic' as const }) };
    const acts = createStoreBindingActivities({ db: stack.db, partners, platform: undefined as never, settings: settings() });
    const codeSecretId = await createPartnerSecrets(stack.db, stack.config.PARTNER_SECRETS_KEY).store(bindingId, 'authorisation_code', 'c');
    const failed = await acts.exchangeYouzanCode({ bindingId, codeSecretId }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ nonRetryable: true, type: ErrorType.PlatformRejected });
    expect(await stack.db('partner_secrets').where({ binding_id: bindingId }).whereNull('retired_at')).toHaveLength(0);
  });
});
