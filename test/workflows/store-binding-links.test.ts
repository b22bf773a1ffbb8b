import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import type { PlatformClient } from '../../platform/types';
import { bindingApi, bindingState, bindYouzan, merchantClaims, seedPartnerStores } from '../support/bindings';
import { eventually } from '../support/fixtures';
import { createFakePartnerGateway } from '../support/partner-gateway-fake';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

/**
 * Unbinding takes the store's outside links down, each exactly once, through the platform; a
 * take-down the platform refuses waits for ops (a live link must come down) and goes on when
 * ops retry it through the API.
 */
jest.setTimeout(180_000);

const fake = createFakePartnerGateway();
let stack: Stack;
let refuseTakeDowns = 0;
beforeAll(async () => {
  const refusing = (platform: PlatformClient): PlatformClient => ({
    ...platform,
    async setPartnerLinks(shopId, change, key) {
      if (change.action === 'take_down' && refuseTakeDowns > 0) {
        refuseTakeDowns -= 1;
        throw ApplicationFailure.nonRetryable('POST /v1/shops/…/partner-links failed with 409', ErrorType.PlatformRejected, { status: 409, body: {} });
      }
      return platform.setPartnerLinks(shopId, change, key);
    },
  });
  stack = await startStack({}, { partners: fake, wrapPlatform: refusing });
});
afterAll(async () => {
  await stack?.teardown();
});

const OPS = { sub: 'olga', role: 'ops' as const };

/** Live links of the binding, on the platform and in the rows, as a window leaves them. */
async function liveLinks(bindingId: string, shopId: string, merchantId: string, storeId: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `pl_${bindingId}_${String(i).padStart(4, '0')}`);
  await stack.db('partner_links').insert(
    ids.map((id, i) => ({ id, binding_id: bindingId, merchant_id: merchantId, shop_id: shopId, platform: 'youzan', store_id: storeId, link_kind: 'union_product', product_id: `p-${i}`, url: `https://shop.youzan.com/${i}`, status: 'live', listed_by: 'u' })),
  );
  for (let i = 0; i < ids.length; i += 200) {
    const res = await fetch(`${stack.sandbox.url}/v1/shops/${shopId}/partner-links`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.config.PLATFORM_API_TOKEN}`, 'content-type': 'application/json', 'Idempotency-Key': `seed:${bindingId}:${i}` },
      body: JSON.stringify({ action: 'publish', partner: 'youzan', storeId, linkKind: 'union_product', linkIds: ids.slice(i, i + 200), reason: 'seed' }),
    });
    expect(res.status).toBe(200);
  }
  return ids;
}

const takeDownsOn = (shopId: string) => {
  const counts = new Map<string, number>();
  for (const c of stack.sandbox.state.shops.get(shopId)?.partnerLinkChanges ?? []) if (c.action === 'take_down') for (const id of c.linkIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
};

test('an unbinding takes every live link of the store down once; a refused take-down waits for ops, who retry it', async () => {
  const merchantId = 'm-bind-links';
  const { shopId } = await openShop(stack, merchantId);
  const { youzan } = seedPartnerStores(fake, merchantId);
  const bindingId = await bindYouzan(stack, fake, merchantId, youzan);
  const workflowId = (await stack.db('store_bindings').where({ id: bindingId }).first()).workflow_id as string;
  const ids = await liveLinks(bindingId, shopId, merchantId, youzan, 230);
  const api = bindingApi(stack);

  refuseTakeDowns = 1;
  const unbind = await api.post(`/v1/bindings/${bindingId}/unbind`, merchantClaims(merchantId), { reason: 'closing the store' });
  expect([200, 202]).toContain(unbind.status);
  const waiting = await bindingState(stack, workflowId, (s) => s.attention !== null);
  expect(waiting.attention).toMatchObject({ step: 'takeDownBindingLinks', errorType: ErrorType.PlatformRefusalNeedsOps, abandonable: false });
  expect((await stack.db('partner_links').where({ binding_id: bindingId }).whereIn('status', ['live', 'taking_down'])).length).toBe(230);

  // A merchant may not answer for ops; abandoning is refused: the links would stay live.
  expect((await api.post(`/v1/bindings/${bindingId}/attention`, merchantClaims(merchantId), { action: 'retry' })).status).toBe(403);
  expect((await api.post(`/v1/bindings/${bindingId}/attention`, OPS, { action: 'abandon' })).status).toBe(409);
  const retried = await api.post(`/v1/bindings/${bindingId}/attention`, OPS, { action: 'retry' });
  expect(retried.status).toBe(200);

  await bindingState(stack, workflowId, (s) => s.status === 'unbound' && s.attention === null);
  await eventually(
    () => stack.db('partner_links').where({ binding_id: bindingId, status: 'down' }).select('id'),
    (rows) => rows.length === ids.length,
  );
  const counts = takeDownsOn(shopId);
  expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
  const actions = await stack.db('partner_link_actions').whereIn('link_id', ids).where({ action: 'take_down' });
  expect(actions).toHaveLength(ids.length);
  expect(await stack.db('audit_log').where({ action: 'binding.attention_retry', target: `binding:${bindingId}` })).toHaveLength(1);
});
