import { createPartnerGateway } from '../../platform/partners/client';
import type { PartnerGateway } from '../../platform/partners/types';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { CALLBACK, ID_NUMBER, PARTNER_APP, testClock, USCC } from './partner-fixtures';
import { failureOf, TOKEN } from './sandbox-fixtures';

describe('partner gateway against a running sandbox', () => {
  let sandbox: RunningSandbox;
  const clock = testClock();
  const gateway = (overrides: { appSecret?: string; timeoutMs?: number; baseUrl?: string } = {}): PartnerGateway =>
    createPartnerGateway({
      baseUrl: overrides.baseUrl ?? `${sandbox.url}/partners/`,
      timeoutMs: overrides.timeoutMs ?? 2_000,
      youzan: { appId: PARTNER_APP.appId, appSecret: overrides.appSecret ?? PARTNER_APP.appSecret },
    });
  const fixture = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${sandbox.url}/partners${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`fixture ${path} answered ${res.status}`);
  };
  /** The merchant's consent, as the browser would follow the gateway's authorize URL. */
  const consentCode = async (storeId: string, level: 'basic' | 'advanced' | 'custom' = 'basic') => {
    const url = new URL(gateway().youzanAuthorizeUrl({ state: 'bind:1', level, redirectUri: CALLBACK }));
    url.searchParams.set('store_id', storeId);
    const res = await fetch(url, { redirect: 'manual' });
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  };
  const expectNoSecretIn = (message: string, ...secrets: string[]) => {
    for (const secret of [PARTNER_APP.appSecret, USCC, ID_NUMBER, ...secrets]) expect(message).not.toContain(secret);
  };

  beforeAll(async () => {
    sandbox = await startSandboxPlatform({ token: TOKEN, port: 0, partnerApp: PARTNER_APP, now: clock.now });
    await fixture('PUT', '/_stores/youzan/yz-1', { storeName: '有赞小店', entity: { kind: 'enterprise', name: '杭州某某贸易有限公司', uscc: USCC } });
    await fixture('PUT', '/_stores/taobao/tb-1', { storeName: '淘宝店', entity: { kind: 'individual', name: '张三', idNumber: ID_NUMBER }, taobaokeOpen: true });
    await fixture('PUT', '/_stores/jd/jd-1', { storeName: '京东店', entity: { kind: 'enterprise', name: 'J', uscc: USCC }, selfOperated: true });
    await fixture('PUT', '/_taobao-union/authorisations', { platform: 'taobao', storeId: 'tb-1', pid: 'mm_12_34_56', account: 'main', positionType: 'content_scene' });
    await fixture('PUT', '/_jd-union/authorisations', { storeId: 'jd-1', unionId: '1001' });
    await fixture('PUT', '/_pinduoduo/authorisations', { storeId: 'pdd-1', pid: '77_88' });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    Object.assign(sandbox.state.settings, { latencyMs: 0, errorRate: 0 });
  });

  it('reads a store as its platform knows it, and null for one it does not', async () => {
    await expect(gateway().storeInfo('taobao', 'tb-1')).resolves.toEqual({
      platform: 'taobao',
      storeId: 'tb-1',
      storeName: '淘宝店',
      entity: { kind: 'individual', name: '张三', idNumber: ID_NUMBER },
      taobaokeOpen: true,
    });
    await expect(gateway().storeInfo('tmall', 'tb-1')).resolves.toBeNull();
    await expect(gateway().storeInfo('jd', 'a/../../x?y')).resolves.toBeNull();
  });

  it("reads the union authorisations: Taobao Union's PID, JD Union's id, Pinduoduo's PID", async () => {
    await expect(gateway().taobaoUnionAuthorisation('taobao', 'tb-1', 'mm_12_34_56')).resolves.toEqual({ pid: 'mm_12_34_56', status: 'authorised', account: 'main', positionType: 'content_scene' });
    await expect(gateway().taobaoUnionAuthorisation('tmall', 'tb-1', 'mm_12_34_56')).resolves.toMatchObject({ status: 'not_authorised' });
    await expect(gateway().jdUnionAuthorisation('jd-1', '1001')).resolves.toEqual({ unionId: '1001', status: 'authorised', selfOperated: true });
    await expect(gateway().pinduoduoAuthorisation('pdd-1', '77_88')).resolves.toEqual({ pid: '77_88', status: 'authorised', commissionOnly: true });
  });

  it('lists products a page at a time as the app, and as the merchant with a Youzan token', async () => {
    await fixture('POST', '/_stores/taobao/tb-1/products/generate', { count: 25, seed: 3 });
    const first = await gateway().listProducts('taobao', 'tb-1', { cursor: null, limit: 10 });
    expect(first.products.map((p) => p.productId)).toEqual(Array.from({ length: 10 }, (_, i) => `tb-1-p${String(i + 1).padStart(7, '0')}`));
    expect(first.nextCursor).toBe('tb-1-p0000010');
    const last = await gateway().listProducts('taobao', 'tb-1', { cursor: 'tb-1-p0000020', limit: 10 });
    expect(last.products).toHaveLength(5);
    expect(last.nextCursor).toBeNull();

    await fixture('POST', '/_stores/youzan/yz-1/products/generate', { count: 2, seed: 3 });
    const grant = await gateway().youzanExchangeCode(await consentCode('yz-1'), CALLBACK);
    await expect(gateway().listProducts('youzan', 'yz-1', { cursor: null, limit: 100 }, grant.accessToken)).resolves.toMatchObject({ nextCursor: null });
    const refused = await failureOf(gateway().listProducts('youzan', 'yz-other', { cursor: null, limit: 100 }, grant.accessToken));
    // A live token for another store is our mistake, not an authorisation ended: refused for good, no needs_reauth.
    expect([refused.type, refused.nonRetryable]).toEqual(['PlatformRejected', true]);
    expectNoSecretIn(refused.message, grant.accessToken);
  });

  it('builds the authorize URL with every part encoded', () => {
    const url = new URL(gateway().youzanAuthorizeUrl({ state: 'a&b=c d', level: 'advanced', redirectUri: 'https://x.test/cb?t=1&u=2' }));
    expect(`${url.origin}${url.pathname}`).toBe(`${sandbox.url}/partners/youzan/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: PARTNER_APP.appId,
      redirect_uri: 'https://x.test/cb?t=1&u=2',
      state: 'a&b=c d',
      scope: 'advanced',
    });
    expect(url.toString()).not.toContain(PARTNER_APP.appSecret);
  });

  it('exchanges a code for a grant with lifetimes in seconds, refreshes it, and reads the store as the merchant', async () => {
    const grant = await gateway().youzanExchangeCode(await consentCode('yz-1', 'custom'), CALLBACK);
    expect(grant).toEqual({
      storeId: 'yz-1',
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      accessExpiresInSeconds: 7 * 86_400,
      refreshExpiresInSeconds: 28 * 86_400,
      level: 'custom',
    });
    const refreshed = await gateway().youzanRefresh(grant.refreshToken);
    expect(refreshed).toMatchObject({ storeId: 'yz-1', level: 'custom' });
    expect(refreshed.refreshToken).not.toBe(grant.refreshToken);
    await expect(gateway().storeInfo('youzan', 'yz-1', refreshed.accessToken)).resolves.toMatchObject({ storeName: '有赞小店' });
    // The app's secret went in the Authorization header, never in a URL or a logged body.
    const tokenCalls = sandbox.state.calls.filter((c) => c.path === '/partners/youzan/oauth/token');
    expect(JSON.stringify(tokenCalls)).not.toContain(PARTNER_APP.appSecret);
  });

  it('fails a used code as a non-retryable rejection that names no code', async () => {
    const code = await consentCode('yz-1');
    await gateway().youzanExchangeCode(code, CALLBACK);
    const failure = await failureOf(gateway().youzanExchangeCode(code, CALLBACK));
    expect([failure.type, failure.nonRetryable, failure.message]).toEqual(['PlatformRejected', true, 'POST /youzan/oauth/token failed with 400 (invalid_grant)']);
    expectNoSecretIn(failure.message, code);
  });

  it('turns a refused refresh and a revoked access token into PartnerAuthorisationRevoked', async () => {
    const grant = await gateway().youzanExchangeCode(await consentCode('yz-1'), CALLBACK);
    await fixture('POST', '/_youzan/revocations', { storeId: 'yz-1' });
    const refused = await failureOf(gateway().youzanRefresh(grant.refreshToken));
    expect([refused.type, refused.nonRetryable, refused.message]).toEqual(['PartnerAuthorisationRevoked', true, 'POST /youzan/oauth/token failed with 400 (invalid_grant)']);
    const read = await failureOf(gateway().storeInfo('youzan', 'yz-1', grant.accessToken));
    expect([read.type, read.nonRetryable, read.message]).toEqual(['PartnerAuthorisationRevoked', true, 'GET /stores/youzan/yz-1 failed with 401 (invalid_token)']);
    expectNoSecretIn(refused.message + read.message, grant.refreshToken, grant.accessToken);
  });

  it('refuses wrong app credentials as a non-retryable rejection, not a revocation', async () => {
    const failure = await failureOf(gateway({ appSecret: 'not-the-secret-at-all' }).youzanRefresh('whatever-token'));
    expect([failure.type, failure.nonRetryable, failure.message]).toEqual(['PlatformRejected', true, 'POST /youzan/oauth/token failed with 401 (invalid_client)']);
    expectNoSecretIn(failure.message, 'not-the-secret-at-all', 'whatever-token');
  });

  it('rejects a malformed id without retrying, and names only method, path and status', async () => {
    const failure = await failureOf(gateway().jdUnionAuthorisation('jd-1', 'not-digits'));
    expect([failure.type, failure.nonRetryable, failure.message]).toEqual(['PlatformRejected', true, 'GET /jd-union/authorisations failed with 400 (invalid_request)']);
  });

  it('turns an injected 503 into a retryable PlatformUnavailable', async () => {
    sandbox.state.settings.errorRate = 1;
    for (const call of [() => gateway().pinduoduoAuthorisation('pdd-1', '77_88'), () => gateway().youzanRefresh('some-refresh-token')]) {
      const failure = await failureOf(call());
      expect([failure.type, failure.nonRetryable]).toEqual(['PlatformUnavailable', false]);
      expect(failure.message).toMatch(/^(GET|POST) \/[\w/-]+ failed with 503 \(sandbox_unavailable\)$/);
      expectNoSecretIn(failure.message, 'some-refresh-token');
    }
  });

  it('times out as a retryable PlatformUnavailable', async () => {
    sandbox.state.settings.latencyMs = 500;
    const failure = await failureOf(gateway({ timeoutMs: 100 }).storeInfo('youzan', 'yz-1'));
    expect([failure.type, failure.nonRetryable, failure.message]).toEqual(['PlatformUnavailable', false, 'GET /stores/youzan/yz-1 timed out after 100 ms']);
  });

  it('reports an unreachable partner as retryable, with nothing secret in the message', async () => {
    const failure = await failureOf(gateway({ baseUrl: 'http://127.0.0.1:9/partners' }).youzanExchangeCode('a-code-value', CALLBACK));
    expect([failure.type, failure.nonRetryable]).toEqual(['PlatformUnavailable', false]);
    expect(failure.message).toMatch(/^POST \/youzan\/oauth\/token failed before a response: /);
    expectNoSecretIn(failure.message, 'a-code-value');
  });
});
