import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { PlatformClient, PlatformRejectionDetails, RefundInput } from '../../platform/types';
import { aProceedsTransfer, aProductsChange, aRefund, aRestrictionsChange, failureOf, TOKEN } from './sandbox-fixtures';

describe('platform client: shop and payment calls against a running sandbox', () => {
  let sandbox: RunningSandbox;
  const client = (timeoutMs = 2_000) => createPlatformClient({ baseUrl: sandbox.url, token: TOKEN, timeoutMs });
  const shop = (shopId: string) => sandbox.state.shops.get(shopId);
  const setShop = async (shopId: string, fixtures: object) => {
    const res = await fetch(`${sandbox.url}/v1/_shops/${encodeURIComponent(shopId)}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(fixtures),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    sandbox = await startSandboxPlatform({ token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    Object.assign(sandbox.state.settings, { latencyMs: 0, errorRate: 0 });
  });

  it('applies and lifts restrictions and returns what is in force', async () => {
    const applied = await client().setRestrictions('c-restrict', aRestrictionsChange({ restrictions: ['stop_sales', 'close_cart'] }), 'restrict:c-restrict:1');
    expect(applied).toEqual({ shopId: 'c-restrict', inForce: ['close_cart', 'stop_sales'] });
    const lifted = await client().setRestrictions('c-restrict', aRestrictionsChange({ action: 'lift', restrictions: ['close_cart', 'stop_sales'] }), 'lift:c-restrict:1');
    expect(lifted.inForce).toEqual([]);
    expect([...(shop('c-restrict')?.restrictions ?? [])]).toEqual([]);
  });

  it('transfers proceeds up to what is available, once per key', async () => {
    await setShop('c-transfer', { availableProceedsFen: 80_000 });
    const input = aProceedsTransfer({ maxAmountFen: 150_000 });
    const first = await client().transferProceeds('c-transfer', input, 'top-up:c-transfer:1');
    const retried = await client().transferProceeds('c-transfer', input, 'top-up:c-transfer:1');
    expect(first.transferredFen).toBe(80_000);
    expect(retried).toEqual(first);
    expect(shop('c-transfer')?.availableProceedsFen).toBe(0);
    expect(shop('c-transfer')?.proceedsTransfers).toHaveLength(1);
  });

  it('refunds exactly once when the client times out and the activity retries with the same key', async () => {
    sandbox.state.settings.latencyMs = 300;
    const input = aRefund({ shopId: 'c-refund', amountFen: 95_000 });
    const failure = await failureOf(client(50).refund(input, 'refund:c-refund:deposit'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);

    // The platform finishes the refund the client gave up on.
    await new Promise((resolve) => setTimeout(resolve, 400));
    sandbox.state.settings.latencyMs = 0;
    expect(shop('c-refund')?.refunds).toHaveLength(1);
    const retried = await client().refund(input, 'refund:c-refund:deposit');
    expect(retried).toEqual({ refundId: shop('c-refund')?.refunds[0].refundId, amountFen: 95_000 });
    expect(shop('c-refund')?.refunds).toHaveLength(1);
  });

  it('turns an injected 503 into a retryable PlatformUnavailable with nothing paid', async () => {
    sandbox.state.settings.errorRate = 1;
    const failure = await failureOf(client().refund(aRefund({ shopId: 'c-503' }), 'refund:c-503:deposit'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('POST /v1/payments/refunds failed with 503 (sandbox_unavailable)');
    expect(shop('c-503')).toBeUndefined();
  });

  it('turns an invalid refund (400) into a non-retryable PlatformRejected', async () => {
    const invalid: RefundInput = aRefund({ shopId: 'c-400', amountFen: -1 });
    const failure = await failureOf(client().refund(invalid, 'refund:c-400:deposit'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('POST /v1/payments/refunds failed with 400 (invalid_request)');
    expect((failure.details?.[0] as PlatformRejectionDetails).body).toMatchObject({ issues: [expect.objectContaining({ path: 'amountFen' })] });
  });

  it('turns a refund key reused for another amount (422) into a non-retryable PlatformRejected', async () => {
    await client().refund(aRefund({ shopId: 'c-422', amountFen: 1_000 }), 'refund:c-422:deposit');
    const failure = await failureOf(client().refund(aRefund({ shopId: 'c-422', amountFen: 2_000 }), 'refund:c-422:deposit'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.details?.[0]).toEqual({ status: 422, body: { error: 'idempotency_key_reused' } });
    expect(shop('c-422')?.refunds.map((r) => r.amountFen)).toEqual([1_000]);
  });

  it('reads monthly sales and orders from the fixtures, sending no idempotency key', async () => {
    await setShop('c-read', {
      monthlySales: { '2025-02': { food: 1_200_000 } },
      orders: [{ orderId: 'o-1', status: 'open', receiptConfirmedAt: null }],
    });
    expect(await client().monthlySales('c-read', '2025-02')).toEqual({ shopId: 'c-read', month: '2025-02', gmvFen: 1_200_000, byCategory: { food: 1_200_000 } });
    expect(await client().monthlySales('c-read', '2025-01')).toEqual({ shopId: 'c-read', month: '2025-01', gmvFen: 0, byCategory: {} });
    expect(await client().shopOrders('c-read')).toEqual({ orders: [{ orderId: 'o-1', status: 'open', receiptConfirmedAt: null }] });
    const reads = sandbox.state.calls.filter((c) => c.path.startsWith('/v1/shops/c-read/'));
    expect(reads.map((c) => [c.method, c.idempotencyKey, c.body])).toEqual([
      ['GET', null, null],
      ['GET', null, null],
      ['GET', null, null],
    ]);
  });

  it('turns a malformed month (400) into a PlatformRejected', async () => {
    const failure = await failureOf(client().monthlySales('c-read', '2025/02'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.message).toBe('GET /v1/shops/c-read/sales?month=2025%2F02 failed with 400 (invalid_request)');
  });

  it('encodes a shop id, so it stays one path segment', async () => {
    const shopId = 'c/odd?id#1';
    await setShop(shopId, { availableProceedsFen: 500 });
    const moved = await client().transferProceeds(shopId, aProceedsTransfer({ maxAmountFen: 300 }), 'top-up:odd:1');
    expect(moved.transferredFen).toBe(300);
    expect(shop(shopId)?.availableProceedsFen).toBe(200);
  });
});

describe('platform client: requests for shop and payment calls', () => {
  function recordingClient() {
    const seen: { url: string; init?: RequestInit }[] = [];
    const fetchImpl: typeof fetch = async (url, init) => {
      seen.push({ url: String(url), init });
      return new Response('{}', { status: 200 });
    };
    return { client: createPlatformClient({ baseUrl: 'http://platform.invalid/', token: TOKEN, timeoutMs: 1_000, fetchImpl }), seen };
  }

  it.each<[string, (c: PlatformClient) => Promise<unknown>, string, string, string | undefined, unknown]>([
    ['setRestrictions', (c) => c.setRestrictions('s-1', aRestrictionsChange(), 'k-r'), 'POST', '/v1/shops/s-1/restrictions', 'k-r', aRestrictionsChange()],
    ['delistProducts', (c) => c.delistProducts('s-1', aProductsChange(), 'k-d'), 'POST', '/v1/shops/s-1/products/delist', 'k-d', aProductsChange()],
    ['relistProducts', (c) => c.relistProducts('s/1', aProductsChange(), 'k-l'), 'POST', '/v1/shops/s%2F1/products/relist', 'k-l', aProductsChange()],
    ['transferProceeds', (c) => c.transferProceeds('s-1', aProceedsTransfer(), 'k-t'), 'POST', '/v1/shops/s-1/proceeds-transfers', 'k-t', aProceedsTransfer()],
    ['refund', (c) => c.refund(aRefund(), 'k-p'), 'POST', '/v1/payments/refunds', 'k-p', aRefund()],
    ['monthlySales', (c) => c.monthlySales('s-1', '2025-02'), 'GET', '/v1/shops/s-1/sales?month=2025-02', undefined, undefined],
    ['shopOrders', (c) => c.shopOrders('s-1'), 'GET', '/v1/shops/s-1/orders', undefined, undefined],
    ['orderFeed', (c) => c.orderFeed(1200, 1000), 'GET', '/v1/orders/feed?after=1200&limit=1000', undefined, undefined],
  ])('%s sends %s %s with the right key and body', async (_name, call, method, path, key, body) => {
    const { client, seen } = recordingClient();
    await call(client);
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe(`http://platform.invalid${path}`);
    expect(seen[0].init?.method).toBe(method);
    const headers = seen[0].init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(headers['Idempotency-Key']).toBe(key);
    expect(seen[0].init?.body === undefined ? undefined : JSON.parse(String(seen[0].init?.body))).toEqual(body);
  });
});
