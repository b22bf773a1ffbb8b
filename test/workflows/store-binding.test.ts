import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { BUSINESS_STATUS } from '../../workflows/search-attributes';
import { residentIdOf } from '../support/fixtures';
import { bindingApi, bindingState, bindYouzan, merchantClaims, seedPartnerStores } from '../support/bindings';
import { createFakePartnerGateway } from '../support/partner-gateway-fake';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

jest.setTimeout(180_000);

const DAY = 86_400_000;
const fake = createFakePartnerGateway();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({}, { partners: fake });
});
afterAll(async () => {
  await stack?.teardown();
});

const rowOf = (bindingId: string) => stack.db('store_bindings').where({ id: bindingId }).first();
const workflowIdOf = async (bindingId: string) => (await rowOf(bindingId)).workflow_id as string;
const handleOf = async (bindingId: string) => new Client({ connection: stack.env.connection }).workflow.getHandle(await workflowIdOf(bindingId));
/** A history as text, its payloads decoded (they are base64 JSON), to search for what must not be there. */
const historyText = (history: Parameters<typeof historyToJSON>[0]) => {
  const json = historyToJSON(history);
  const payloads = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
  return [json, ...payloads].join('\n');
};
const liveSecrets = (bindingId: string) => stack.db('partner_secrets').where({ binding_id: bindingId }).whereNull('retired_at');

describe('a Youzan binding over weeks', () => {
  test('its token is refreshed on its own timer before it expires, for weeks; each refresh rotates the tokens and retires the old ones', async () => {
    const merchantId = 'm-bind-weeks';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const bindingId = await bindYouzan(stack, fake, merchantId, youzan);
    const workflowId = await workflowIdOf(bindingId);
    const first = await bindingState(stack, workflowId, (s) => s.status === 'bound' && s.grant !== null);
    const boundAt = Date.parse(first.grant!.accessExpiresAt) - 7 * DAY;
    expect(Date.parse(first.grant!.refreshAt)).toBe(boundAt + 6 * DAY);
    const refreshesBefore = fake.calls.refresh;

    // Five weeks: refreshed every 6 days (1 day before each 7-day token expires), never late.
    await stack.env.sleep('35 days');
    const later = await bindingState(stack, workflowId, (s) => (s.grant?.refreshedTimes ?? 0) >= 5);
    expect(later.status).toBe('bound');
    expect(fake.calls.refresh - refreshesBefore).toBe(later.grant!.refreshedTimes);
    const now = Number(await stack.env.currentTimeMs());
    expect(Date.parse(later.grant!.accessExpiresAt)).toBeGreaterThan(now);
    expect(Date.parse(later.grant!.refreshAt)).toBeLessThan(Date.parse(later.grant!.accessExpiresAt));

    const row = await rowOf(bindingId);
    expect(row).toMatchObject({ status: 'bound', sync_enabled: true, permission_level: 'basic' });
    expect(new Date(row.access_expires_at).toISOString()).toBe(later.grant!.accessExpiresAt);
    // One live access token and one live refresh token; every replaced one is wiped.
    expect((await liveSecrets(bindingId)).map((s) => s.kind).sort()).toEqual(['access_token', 'refresh_token']);
    const retired = await stack.db('partner_secrets').where({ binding_id: bindingId }).whereNotNull('retired_at');
    expect(retired.length).toBeGreaterThanOrEqual(2 * later.grant!.refreshedTimes);
    expect(retired.every((s) => s.cipher === '')).toBe(true);

    // No token, code or identity number anywhere in the process's history.
    const history = historyText(await (await handleOf(bindingId)).fetchHistory());
    // The check can fail: the payloads are read in clear (the binding id is in them).
    expect(history).toContain(`"bindingId":"${bindingId}"`);
    for (const secret of [...fake.issued, residentIdOf(merchantId)]) expect(history).not.toContain(secret);
    const cipherTexts = (await stack.db('partner_secrets').where({ binding_id: bindingId })).map((s) => s.cipher as string).filter(Boolean);
    for (const cipher of cipherTexts) expect(history).not.toContain(cipher);
  });
});

describe('needs_reauth and authorising again', () => {
  test('a revoked grant: the next refresh is refused, sync stops, the merchant is told, ops find it; re-authorised, it is bound again', async () => {
    const merchantId = 'm-bind-revoked';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const bindingId = await bindYouzan(stack, fake, merchantId, youzan);
    const workflowId = await workflowIdOf(bindingId);
    fake.revoke(youzan);
    await stack.env.sleep('6 days');
    const waiting = await bindingState(stack, workflowId, (s) => s.status === 'needs_reauth');
    expect(waiting).toMatchObject({ reauthReason: 'revoked', grant: null });
    expect(await rowOf(bindingId)).toMatchObject({ status: 'needs_reauth', sync_enabled: false, refusal: 'revoked' });
    expect(await liveSecrets(bindingId)).toHaveLength(0);
    const described = await (await handleOf(bindingId)).describe();
    expect(described.typedSearchAttributes.get(BUSINESS_STATUS)).toBe('needs_reauth');
    const notices = stack.sandbox.state.notifications.filter((n: { template: string; merchantId: string }) => n.template === 'store_binding_needs_reauth' && n.merchantId === merchantId);
    expect(notices).toHaveLength(1);

    const api = bindingApi(stack);
    const again = await api.post(`/v1/bindings/${bindingId}/reauthorisation`, merchantClaims(merchantId));
    expect(again.status).toBe(200);
    const bound = await api.callback({ code: fake.consent(youzan, 'basic'), state: api.stateOf(again.body.authorizeUrl) });
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ status: 'bound', syncEnabled: true });
    expect((await (await handleOf(bindingId)).describe()).typedSearchAttributes.get(BUSINESS_STATUS)).toBe('bound');
  });

  test('a refresh that keeps failing (partner down) is retried until the access token expires, then needs_reauth', async () => {
    const merchantId = 'm-bind-outage';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const bindingId = await bindYouzan(stack, fake, merchantId, youzan);
    const workflowId = await workflowIdOf(bindingId);
    fake.outage = true;
    try {
      await stack.env.sleep('8 days');
      const waiting = await bindingState(stack, workflowId, (s) => s.status === 'needs_reauth', 120_000);
      expect(waiting.reauthReason).toBe('refresh_failed');
      expect(await rowOf(bindingId)).toMatchObject({ status: 'needs_reauth', sync_enabled: false });
    } finally {
      fake.outage = false;
    }
  });
});

describe('unbinding', () => {
  test("the merchant's unbinding ends the process and its timers; every secret is wiped", async () => {
    const merchantId = 'm-bind-unbind';
    await openShop(stack, merchantId);
    const { youzan } = seedPartnerStores(fake, merchantId);
    const bindingId = await bindYouzan(stack, fake, merchantId, youzan);
    const refreshes = fake.calls.refresh;
    const res = await bindingApi(stack).post(`/v1/bindings/${bindingId}/unbind`, merchantClaims(merchantId), { reason: 'moving to another store' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'unbound', syncEnabled: false, closedForGood: false });
    const handle = await handleOf(bindingId);
    const described = await handle.describe();
    expect(described.status.name).toBe('COMPLETED');
    expect(described.typedSearchAttributes.get(BUSINESS_STATUS)).toBe('unbound');
    await stack.env.sleep('10 days');
    expect(fake.calls.refresh).toBe(refreshes);
    expect(await stack.db('partner_secrets').where({ binding_id: bindingId }).whereNot({ cipher: '' })).toHaveLength(0);
  });
});
