import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { PlatformRejectionDetails } from '../../platform/types';
import { aProductsChange, aRestrictionsChange, failureOf, TOKEN } from './sandbox-fixtures';

describe('platform client: violation penalties against a running sandbox', () => {
  let sandbox: RunningSandbox;
  const client = () => createPlatformClient({ baseUrl: sandbox.url, token: TOKEN, timeoutMs: 2_000 });
  const delisted = (shopId: string) => [...(sandbox.state.shops.get(shopId)?.delistedProducts ?? [])].sort();

  beforeAll(async () => {
    sandbox = await startSandboxPlatform({ token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    Object.assign(sandbox.state.settings, { latencyMs: 0, errorRate: 0 });
  });

  it('delists and relists products and returns what is delisted', async () => {
    const first = await client().delistProducts('c-products', aProductsChange({ productIds: ['p-3', 'p-1'] }), 'delist:c-products:case-1');
    expect(first).toEqual({ delisted: ['p-1', 'p-3'] });
    const relisted = await client().relistProducts('c-products', aProductsChange({ productIds: ['p-3', 'p-never'] }), 'relist:c-products:case-1');
    expect(relisted).toEqual({ delisted: ['p-1'] });
    expect(delisted('c-products')).toEqual(['p-1']);
  });

  it('delists once when an activity retries with the same key', async () => {
    const change = aProductsChange({ productIds: ['p-1'] });
    const first = await client().delistProducts('c-retry', change, 'delist:c-retry:case-2');
    await client().relistProducts('c-retry', change, 'relist:c-retry:case-2');
    const retried = await client().delistProducts('c-retry', change, 'delist:c-retry:case-2');
    expect(retried).toEqual(first);
    expect(delisted('c-retry')).toEqual([]);
    expect(sandbox.state.shops.get('c-retry')?.productChanges.map((c) => c.action)).toEqual(['delist', 'relist']);
  });

  it('upserts listings once per key, counts an unchanged listing as no change, and holds them as a set', async () => {
    const listing = { productId: 'p-1', title: '三只松鼠坚果礼盒', category: 'ks-food', priceFen: 9_900, inventory: 5, mainImageUrl: 'https://img.example/p-1.jpg', detailUrl: 'https://item.example/p-1', presaleLabel: null, promoTags: [] };
    const batch = { partner: 'jd' as const, storeId: 'jd-1', listings: [listing] };
    await expect(client().upsertListings('c-listings', batch, 'sync:c-listings:1')).resolves.toEqual({ changed: 1 });
    await expect(client().upsertListings('c-listings', batch, 'sync:c-listings:1')).resolves.toEqual({ changed: 1 });
    await expect(client().upsertListings('c-listings', batch, 'sync:c-listings:2')).resolves.toEqual({ changed: 0 });
    expect(sandbox.state.listings.get('c-listings')?.upserts.get('jd:jd-1:p-1')).toBe(2);
    const hold = { action: 'hold' as const, partner: 'jd' as const, storeId: 'jd-1', productIds: ['p-1'], reason: 'price_gap' };
    await expect(client().holdListings('c-listings', hold, 'hold:c-listings:1')).resolves.toEqual({ changed: 1 });
    await expect(client().holdListings('c-listings', hold, 'hold:c-listings:2')).resolves.toEqual({ changed: 0 });
    await expect(client().holdListings('c-listings', { ...hold, action: 'release' }, 'release:c-listings:1')).resolves.toEqual({ changed: 1 });
    const refused = await failureOf(client().upsertListings('c-listings', { ...batch, listings: [] }, 'sync:c-listings:3'));
    expect(refused.nonRetryable).toBe(true);
  });

  it('applies the violation restrictions through setRestrictions', async () => {
    const applied = await client().setRestrictions('c-penalty', aRestrictionsChange({ restrictions: ['bar_big_promotions', 'disable_api'] }), 'restrict:c-penalty:case-3');
    expect(applied).toEqual({ shopId: 'c-penalty', inForce: ['disable_api', 'bar_big_promotions'] });
    expect([...(sandbox.state.shops.get('c-penalty')?.restrictions ?? [])].sort()).toEqual(['bar_big_promotions', 'disable_api']);
  });

  it('turns an injected 503 into a retryable PlatformUnavailable with nothing delisted', async () => {
    sandbox.state.settings.errorRate = 1;
    const failure = await failureOf(client().delistProducts('c-503', aProductsChange(), 'delist:c-503:case-4'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('POST /v1/shops/c-503/products/delist failed with 503 (sandbox_unavailable)');
    expect(sandbox.state.shops.has('c-503')).toBe(false);
  });

  it('turns too many products (400) into a non-retryable PlatformRejected', async () => {
    const productIds = Array.from({ length: 201 }, (_, i) => `p-${i}`);
    const failure = await failureOf(client().relistProducts('c-400', aProductsChange({ productIds }), 'relist:c-400:case-5'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('POST /v1/shops/c-400/products/relist failed with 400 (invalid_request)');
    expect((failure.details?.[0] as PlatformRejectionDetails).body).toMatchObject({ issues: [expect.objectContaining({ path: 'productIds' })] });
  });

  it('turns a key reused for other products (422) into a non-retryable PlatformRejected', async () => {
    await client().delistProducts('c-422', aProductsChange({ productIds: ['p-1'] }), 'delist:c-422:case-6');
    const failure = await failureOf(client().delistProducts('c-422', aProductsChange({ productIds: ['p-2'] }), 'delist:c-422:case-6'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details?.[0]).toEqual({ status: 422, body: { error: 'idempotency_key_reused' } });
    expect(delisted('c-422')).toEqual(['p-1']);
  });

  it('turns a wrong token (401) into a non-retryable PlatformRejected', async () => {
    const wrong = createPlatformClient({ baseUrl: sandbox.url, token: 'not-the-token', timeoutMs: 2_000 });
    const failure = await failureOf(wrong.delistProducts('c-401', aProductsChange(), 'delist:c-401:case-7'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.details?.[0]).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(sandbox.state.shops.has('c-401')).toBe(false);
  });
});
