import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createSandboxPlatform, startSandboxPlatform } from '../../platform/sandbox';
import { AUTH, TOKEN } from './sandbox-fixtures';
import { APP_AUTH, CALLBACK, consent, ID_NUMBER, PARTNER_APP, putPartnerStore, testClock, USCC } from './partner-fixtures';

const DAY = 86_400;

function sandbox(random = () => 0.5) {
  const clock = testClock();
  const { app, state } = createSandboxPlatform({ token: TOKEN, partnerApp: PARTNER_APP, now: clock.now, random });
  return { app, state, clock };
}

const exchange = (app: ReturnType<typeof sandbox>['app'], code: string, redirectUri = CALLBACK) =>
  request(app).post('/partners/youzan/oauth/token').set(APP_AUTH).type('form').send({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
const refresh = (app: ReturnType<typeof sandbox>['app'], refreshToken: string) =>
  request(app).post('/partners/youzan/oauth/token').set(APP_AUTH).type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken });

describe('the sandbox as Youzan (OAuth 2.0)', () => {
  it('sends the merchant back with a code and the state untouched, however odd the state is', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const state = 'a&b=c #d/é+';
    const res = await request(app)
      .get('/partners/youzan/oauth/authorize')
      .query({ response_type: 'code', client_id: PARTNER_APP.appId, redirect_uri: CALLBACK, state, scope: 'advanced', store_id: 'yz-1' })
      .expect(302);
    const back = new URL(res.headers.location);
    expect(`${back.origin}${back.pathname}`).toBe('https://ops.example.test/v1/bindings/oauth/youzan/callback');
    expect(back.searchParams.get('tenant')).toBe('a b');
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
  });

  it('refuses an unknown client or an unregistered redirect_uri without redirecting anywhere', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const base = { response_type: 'code', client_id: PARTNER_APP.appId, redirect_uri: CALLBACK, state: 's', scope: 'basic', store_id: 'yz-1' };
    const wrongClient = await request(app).get('/partners/youzan/oauth/authorize').query({ ...base, client_id: 'someone-else' });
    expect([wrongClient.status, wrongClient.body]).toEqual([400, { error: 'invalid_client' }]);
    const wrongCallback = await request(app).get('/partners/youzan/oauth/authorize').query({ ...base, redirect_uri: 'https://evil.example.test/cb' });
    expect([wrongCallback.status, wrongCallback.body]).toEqual([400, { error: 'invalid_redirect_uri' }]);
    expect(wrongCallback.headers.location).toBeUndefined();
  });

  it('needs to be told which known store the merchant consents for', async () => {
    const { app } = sandbox();
    const base = { response_type: 'code', client_id: PARTNER_APP.appId, redirect_uri: CALLBACK, state: 's', scope: 'basic' };
    expect((await request(app).get('/partners/youzan/oauth/authorize').query(base).expect(400)).body).toEqual({ error: 'store_id_required' });
    expect((await request(app).get('/partners/youzan/oauth/authorize').query({ ...base, store_id: 'yz-404' }).expect(404)).body).toEqual({ error: 'store_not_found' });
  });

  it('redirects a refusal, a bad scope or response type back with an error and the state', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const base = { response_type: 'code', client_id: PARTNER_APP.appId, redirect_uri: CALLBACK, state: 's-9', scope: 'basic', store_id: 'yz-1' };
    for (const [query, error] of [
      [{ consent: 'deny' }, 'access_denied'],
      [{ scope: 'everything' }, 'invalid_scope'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
    ] as const) {
      const res = await request(app).get('/partners/youzan/oauth/authorize').query({ ...base, ...query }).expect(302);
      const back = new URL(res.headers.location);
      expect([back.searchParams.get('error'), back.searchParams.get('state'), back.searchParams.get('code')]).toEqual([error, 's-9', null]);
    }
  });

  it('exchanges a code once, for tokens of the consented store and level with their lifetimes', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const code = await consent(app, 'yz-1', 'custom');
    const first = await exchange(app, code).expect(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 7 * DAY,
      refresh_token: expect.any(String),
      refresh_expires_in: 28 * DAY,
      scope: 'custom',
      store_id: 'yz-1',
    });
    const again = await exchange(app, code);
    expect([again.status, again.body]).toEqual([400, { error: 'invalid_grant' }]);
    // Someone else had the code: the grant it gave ends too.
    expect((await refresh(app, (first.body as Record<string, string>).refresh_token)).body).toEqual({ error: 'invalid_grant' });
  });

  it('binds a code to its redirect_uri and its client, and lets it expire', async () => {
    const { app, clock } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    expect((await exchange(app, await consent(app, 'yz-1'), 'https://ops.example.test/other')).body).toEqual({ error: 'invalid_grant' });
    const wrongSecret = { Authorization: `Basic ${Buffer.from(`${PARTNER_APP.appId}:wrong-secret`).toString('base64')}` };
    const code = await consent(app, 'yz-1');
    const refused = await request(app).post('/partners/youzan/oauth/token').set(wrongSecret).type('form').send({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK });
    expect([refused.status, refused.body]).toEqual([401, { error: 'invalid_client' }]);
    const late = await consent(app, 'yz-1');
    clock.advanceSeconds(601);
    expect((await exchange(app, late)).body).toEqual({ error: 'invalid_grant' });
  });

  it('takes the client credentials in the body too (client_secret_post)', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const code = await consent(app, 'yz-1');
    await request(app)
      .post('/partners/youzan/oauth/token')
      .type('form')
      .send({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: PARTNER_APP.appId, client_secret: PARTNER_APP.appSecret })
      .expect(200);
  });

  it('rotates both tokens on refresh: the old refresh and access tokens stop working', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const first = (await exchange(app, await consent(app, 'yz-1', 'advanced')).expect(200)).body as Record<string, string>;
    const second = (await refresh(app, first.refresh_token).expect(200)).body as Record<string, string>;
    expect(second).toMatchObject({ scope: 'advanced', store_id: 'yz-1' });
    expect([second.access_token, second.refresh_token]).not.toContain(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await refresh(app, first.refresh_token)).body).toEqual({ error: 'invalid_grant' });
    await request(app).get('/partners/stores/youzan/yz-1').set({ Authorization: `Bearer ${first.access_token}` }).expect(401);
    const info = await request(app).get('/partners/stores/youzan/yz-1').set({ Authorization: `Bearer ${second.access_token}` }).expect(200);
    expect(info.body).toMatchObject({ platform: 'youzan', storeId: 'yz-1', entity: { uscc: USCC } });
  });

  it('ends every grant of a store the merchant revoked: refresh answers invalid_grant, the access token 401', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const grant = (await exchange(app, await consent(app, 'yz-1')).expect(200)).body as Record<string, string>;
    expect((await request(app).post('/partners/_youzan/revocations').send({ storeId: 'yz-1' }).expect(200)).body).toEqual({ storeId: 'yz-1', grantsRevoked: 1 });
    const refused = await refresh(app, grant.refresh_token);
    expect([refused.status, refused.body]).toEqual([400, { error: 'invalid_grant' }]);
    const read = await request(app).get('/partners/stores/youzan/yz-1').set({ Authorization: `Bearer ${grant.access_token}` });
    expect([read.status, read.body, read.headers['www-authenticate']]).toEqual([401, { error: 'invalid_token' }, 'Bearer error="invalid_token"']);
  });

  it('lets tokens expire at their lifetimes, which a fixture sets', async () => {
    const { app, clock } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    await request(app).put('/partners/_youzan/lifetimes').send({ accessSeconds: 60, refreshSeconds: 120 }).expect(200);
    const grant = (await exchange(app, await consent(app, 'yz-1')).expect(200)).body as Record<string, string | number>;
    expect([grant.expires_in, grant.refresh_expires_in]).toEqual([60, 120]);
    const asMerchant = { Authorization: `Bearer ${String(grant.access_token)}` };
    clock.advanceSeconds(59);
    await request(app).get('/partners/stores/youzan/yz-1').set(asMerchant).expect(200);
    clock.advanceSeconds(1);
    await request(app).get('/partners/stores/youzan/yz-1').set(asMerchant).expect(401);
    clock.advanceSeconds(60);
    expect((await refresh(app, String(grant.refresh_token))).body).toEqual({ error: 'invalid_grant' });
  });
});

describe('the sandbox as Taobao Union, JD Union and Pinduoduo', () => {
  it('answers store info to the app, 404 for a store it does not know, 401 without credentials', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'taobao', 'tb-1', { taobaokeOpen: true });
    await request(app)
      .put('/partners/_stores/jd/jd-1')
      .send({ storeName: '京东自营店', entity: { kind: 'individual', name: '张三', idNumber: ID_NUMBER }, selfOperated: true })
      .expect(200);
    expect((await request(app).get('/partners/stores/taobao/tb-1').set(APP_AUTH).expect(200)).body).toMatchObject({ platform: 'taobao', taobaokeOpen: true });
    expect((await request(app).get('/partners/stores/jd/jd-1').set(APP_AUTH).expect(200)).body).toMatchObject({ entity: { kind: 'individual', idNumber: ID_NUMBER } });
    expect((await request(app).get('/partners/stores/tmall/tb-1').set(APP_AUTH).expect(404)).body).toEqual({ error: 'store_not_found' });
    await request(app).get('/partners/stores/taobao/tb-1').expect(401);
    // The platform's token is not the partners' credential.
    await request(app).get('/partners/stores/taobao/tb-1').set(AUTH).expect(401);
  });

  it("reads a PID's authorisation as the merchant recorded it on the union's side", async () => {
    const { app } = sandbox();
    await request(app)
      .put('/partners/_taobao-union/authorisations')
      .send({ platform: 'tmall', storeId: 'tm-1', pid: 'mm_1_2_3', account: 'sub', positionType: 'content_scene' })
      .expect(200);
    const read = (query: Record<string, string>) => request(app).get('/partners/taobao-union/authorisations').set(APP_AUTH).query(query);
    expect((await read({ platform: 'tmall', storeId: 'tm-1', pid: 'mm_1_2_3' })).body).toEqual({ pid: 'mm_1_2_3', status: 'authorised', account: 'sub', positionType: 'content_scene' });
    expect((await read({ platform: 'taobao', storeId: 'tm-1', pid: 'mm_1_2_3' })).body).toEqual({ pid: 'mm_1_2_3', status: 'not_authorised', account: null, positionType: null });
    expect((await read({ platform: 'tmall', storeId: 'tm-1', pid: 'mm_1_2' })).status).toBe(400);
  });

  it('reads JD Union and Pinduoduo authorisations by their own ids', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'jd', 'jd-1', { selfOperated: true });
    await request(app).put('/partners/_jd-union/authorisations').send({ storeId: 'jd-1', unionId: '100200' }).expect(200);
    await request(app).put('/partners/_pinduoduo/authorisations').send({ storeId: 'pdd-1', pid: '8812_1234' }).expect(200);
    await request(app).put('/partners/_pinduoduo/authorisations').send({ storeId: 'pdd-1', pid: 'mm_1_2_3' }).expect(400);
    expect((await request(app).get('/partners/jd-union/authorisations').set(APP_AUTH).query({ storeId: 'jd-1', unionId: '100200' })).body).toEqual({
      unionId: '100200',
      status: 'authorised',
      selfOperated: true,
    });
    expect((await request(app).get('/partners/jd-union/authorisations').set(APP_AUTH).query({ storeId: 'jd-1', unionId: 'u-1' })).status).toBe(400);
    expect((await request(app).get('/partners/pinduoduo/authorisations').set(APP_AUTH).query({ storeId: 'pdd-1', pid: '8812_1234' })).body).toEqual({
      pid: '8812_1234',
      status: 'authorised',
      commissionOnly: true,
    });
    await request(app).get('/partners/pinduoduo/authorisations').query({ storeId: 'pdd-1', pid: '8812_1234' }).expect(401);
  });
});

describe('the partners as the rest of the sandbox behaves', () => {
  it('injects failures on the partner routes, never on their fixtures', async () => {
    const { app } = sandbox(() => 0);
    await request(app).put('/v1/_settings').set(AUTH).send({ errorRate: 1 }).expect(200);
    await putPartnerStore(app, 'youzan', 'yz-1');
    expect((await request(app).get('/partners/stores/youzan/yz-1').set(APP_AUTH).expect(503)).body).toEqual({ error: 'sandbox_unavailable' });
    await request(app).post('/partners/youzan/oauth/token').set(APP_AUTH).type('form').send({ grant_type: 'refresh_token', refresh_token: 'x' }).expect(503);
  });

  it('logs partner calls in the call log with tokens, codes and secrets redacted', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    const code = await consent(app, 'yz-1');
    const grant = (
      await request(app)
        .post('/partners/youzan/oauth/token')
        .type('form')
        .send({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: PARTNER_APP.appId, client_secret: PARTNER_APP.appSecret })
        .expect(200)
    ).body as Record<string, string>;
    await refresh(app, grant.refresh_token).expect(200);
    const log = (await request(app).get('/v1/calls').set(AUTH).query({ path: '/partners' }).expect(200)).body as { calls: Array<{ path: string; status: number; body: unknown }> };
    expect(log.calls.map((c) => [c.path, c.status])).toEqual([
      ['/partners/youzan/oauth/authorize', 302],
      ['/partners/youzan/oauth/token', 200],
      ['/partners/youzan/oauth/token', 200],
    ]);
    expect(log.calls[1].body).toEqual({ grant_type: 'authorization_code', code: '[redacted]', redirect_uri: CALLBACK, client_id: PARTNER_APP.appId, client_secret: '[redacted]' });
    const text = JSON.stringify(log);
    for (const secret of [code, grant.refresh_token, PARTNER_APP.appSecret, USCC]) expect(text).not.toContain(secret);
  });

  it('reads a state file written before it served the partners', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-partners-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const older = await startSandboxPlatform({ port: 0, token: TOKEN, stateFile });
      await older.close();
      const snapshot = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
      delete snapshot.partners;
      fs.writeFileSync(stateFile, JSON.stringify(snapshot));
      const running = await startSandboxPlatform({ port: 0, token: TOKEN, partnerApp: PARTNER_APP, stateFile });
      expect(running.state.partners.youzan.lifetimes).toEqual({ codeSeconds: 600, accessSeconds: 7 * DAY, refreshSeconds: 28 * DAY });
      await running.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remembers stores, authorisations, grants and lifetimes across a restart, tokens by digest only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-partners-'));
    const stateFile = path.join(dir, 'state.json');
    const start = () => startSandboxPlatform({ port: 0, token: TOKEN, partnerApp: PARTNER_APP, stateFile });
    const call = (url: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { 'content-type': 'application/json', ...APP_AUTH, ...(init.headers ?? {}) } });
    let running = await start();
    try {
      await call(`${running.url}/partners/_stores/youzan/yz-1`, { method: 'PUT', body: JSON.stringify({ storeName: 'Y', entity: { kind: 'enterprise', name: 'N', uscc: USCC } }) });
      await call(`${running.url}/partners/_pinduoduo/authorisations`, { method: 'PUT', body: JSON.stringify({ storeId: 'pdd-1', pid: '1_2' }) });
      await call(`${running.url}/partners/_youzan/lifetimes`, { method: 'PUT', body: JSON.stringify({ accessSeconds: 3600 }) });
      const authorize = new URL(`${running.url}/partners/youzan/oauth/authorize`);
      Object.entries({ response_type: 'code', client_id: PARTNER_APP.appId, redirect_uri: CALLBACK, state: 's', scope: 'basic', store_id: 'yz-1' }).forEach(([k, v]) => authorize.searchParams.set(k, v));
      const consented = await fetch(authorize, { redirect: 'manual' });
      const code = new URL(consented.headers.get('location')!).searchParams.get('code')!;
      await running.close();
      running = await start();
      const tokens = (await (
        await call(`${running.url}/partners/youzan/oauth/token`, { method: 'POST', body: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK }) })
      ).json()) as Record<string, string | number>;
      expect(tokens).toMatchObject({ store_id: 'yz-1', expires_in: 3600 });
      await running.close();
      expect(fs.readFileSync(stateFile, 'utf8')).not.toContain(String(tokens.refresh_token));
      running = await start();
      expect((await call(`${running.url}/partners/pinduoduo/authorisations?storeId=pdd-1&pid=1_2`).then((r) => r.json())) as unknown).toMatchObject({ status: 'authorised' });
      const rotated = await call(`${running.url}/partners/youzan/oauth/token`, { method: 'POST', body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }) });
      expect(rotated.status).toBe(200);
    } finally {
      await running.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
