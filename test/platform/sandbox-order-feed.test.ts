import request from 'supertest';
import { createPlatformClient } from '../../platform/client';
import { createSandboxPlatform, startSandboxPlatform } from '../../platform/sandbox';
import type { FeedOrder } from '../../platform/types';
import { AUTH, failureOf, TOKEN } from './sandbox-fixtures';

const paid = (orderId: string, overrides: Partial<FeedOrder> = {}): FeedOrder => ({
  orderId,
  merchantId: 'm-feed',
  shopId: 'shop-m-feed',
  category: 'apparel',
  amountFen: 12_900,
  status: 'paid',
  paidAt: '2026-10-03T02:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
  ...overrides,
});

describe('sandbox platform: order feed', () => {
  const { app, state } = createSandboxPlatform({ token: TOKEN });
  const append = (orders: unknown[]) => request(app).post('/v1/_orders').set(AUTH).send({ orders });
  const feed = (query: Record<string, string | number>) => request(app).get('/v1/orders/feed').query(query).set(AUTH);

  beforeAll(async () => {
    const first = await append([paid('o-1'), paid('o-2'), paid('o-1', { status: 'receipt_confirmed', receiptConfirmedAt: '2026-10-06T02:00:00.000Z' })]);
    expect(first.status).toBe(201);
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    const second = await append([paid('o-1', { status: 'refunded', receiptConfirmedAt: '2026-10-06T02:00:00.000Z', refundedAt: '2026-10-08T02:00:00.000Z' })]);
    expect(second.body.events).toEqual([{ seq: 4, order: expect.objectContaining({ orderId: 'o-1', status: 'refunded' }) }]);
  });

  it('answers each change as the full order state, in seq order, a page at a time', async () => {
    const page = await feed({ after: 0, limit: 3 });
    expect(page.status).toBe(200);
    expect(page.body).toEqual({
      events: [
        { seq: 1, order: paid('o-1') },
        { seq: 2, order: paid('o-2') },
        { seq: 3, order: paid('o-1', { status: 'receipt_confirmed', receiptConfirmedAt: '2026-10-06T02:00:00.000Z' }) },
      ],
      lastSeq: 3,
      hasMore: true,
    });
    const rest = await feed({ after: 3, limit: 3 });
    expect(rest.body.events.map((e: { seq: number }) => e.seq)).toEqual([4]);
    expect(rest.body).toMatchObject({ lastSeq: 4, hasMore: false });
  });

  it('answers an empty page at the end, keeping the cursor where it was', async () => {
    expect((await feed({ after: 4 })).body).toEqual({ events: [], lastSeq: 4, hasMore: false });
    expect((await feed({ after: 99 })).body).toEqual({ events: [], lastSeq: 99, hasMore: false });
  });

  it('reads from the start with 500 events a page by default', async () => {
    const more = Array.from({ length: 600 }, (_, i) => paid(`o-bulk-${i}`));
    expect((await append(more)).status).toBe(201);
    const page = await request(app).get('/v1/orders/feed').set(AUTH);
    expect(page.body.events).toHaveLength(500);
    expect(page.body).toMatchObject({ lastSeq: 500, hasMore: true });
    const max = await feed({ after: 4, limit: 1000 });
    expect(max.body.events).toHaveLength(600);
    expect(max.body).toMatchObject({ lastSeq: 604, hasMore: false });
  });

  it.each([
    ['a negative cursor', { after: -1 }],
    ['a fractional cursor', { after: '1.5' }],
    ['a word for a cursor', { after: 'start' }],
    ['limit 0', { limit: 0 }],
    ['limit above 1000', { limit: 1001 }],
    ['an unknown parameter', { after: 0, shopId: 's-1' }],
  ])('refuses %s with 400', async (_label, query) => {
    const res = await feed(query);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it.each([
    ['no orders', []],
    ['a receipt_confirmed order without its receipt time', [paid('o-x', { status: 'receipt_confirmed' })]],
    ['a refunded order without its refund time', [paid('o-x', { status: 'refunded' })]],
    ['a paid order with a refund time', [paid('o-x', { refundedAt: '2026-10-08T02:00:00.000Z' })]],
    ['a receipt before the payment', [paid('o-x', { status: 'receipt_confirmed', receiptConfirmedAt: '2026-10-01T00:00:00.000Z' })]],
    ['an amount in yuan with cents', [paid('o-x', { amountFen: 129.5 })]],
    ['an unknown status', [paid('o-x', { status: 'shipped' as FeedOrder['status'] })]],
    ['an unknown field', [{ ...paid('o-x'), buyerName: '张三' }]],
  ])('refuses to append %s, and the feed stays as it was', async (_label, orders) => {
    const before = state.orderFeed.length;
    const res = await append(orders);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(state.orderFeed).toHaveLength(before);
  });

  it('needs the token on both routes', async () => {
    expect((await request(app).get('/v1/orders/feed')).status).toBe(401);
    expect((await request(app).post('/v1/_orders').send({ orders: [paid('o-x')] })).status).toBe(401);
  });
});

describe('sandbox platform: order feed under injected failures', () => {
  it('fails the feed with 503 but never the control path, which is not call-logged either', async () => {
    const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 1 });
    expect((await request(app).post('/v1/_orders').set(AUTH).send({ orders: [paid('o-1')] })).status).toBe(201);
    expect((await request(app).get('/v1/orders/feed').set(AUTH)).status).toBe(503);
    expect(state.calls.map((c) => [c.method, c.path, c.status])).toEqual([['GET', '/v1/orders/feed', 503]]);
  });
});

describe('platform client: order feed', () => {
  it('reads a page without an idempotency key, and maps a bad cursor to PlatformRejected', async () => {
    const sandbox = await startSandboxPlatform({ token: TOKEN, port: 0 });
    try {
      sandbox.state.orderFeed.push({ seq: 1, order: paid('o-c1') }, { seq: 2, order: paid('o-c2') });
      const client = createPlatformClient({ baseUrl: sandbox.url, token: TOKEN, timeoutMs: 2_000 });
      expect(await client.orderFeed(1, 10)).toEqual({ events: [{ seq: 2, order: paid('o-c2') }], lastSeq: 2, hasMore: false });
      expect(sandbox.state.calls.at(-1)).toMatchObject({ method: 'GET', path: '/v1/orders/feed', idempotencyKey: null });
      const failure = await failureOf(client.orderFeed(-1, 10));
      expect(failure.type).toBe('PlatformRejected');
      expect(failure.message).toBe('GET /v1/orders/feed?after=-1&limit=10 failed with 400 (invalid_request)');
    } finally {
      await sandbox.close();
    }
  });
});
