import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import type { CompensationInput, FeedOrder } from '../../platform/types';
import { AUTH, TOKEN } from './sandbox-fixtures';

const shipped: FeedOrder = {
  orderId: 'o-cmp',
  merchantId: 'm-cmp',
  shopId: 's-cmp',
  category: 'apparel',
  amountFen: 1_000,
  status: 'paid',
  paidAt: '2026-12-01T00:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
  shippedAt: '2026-12-01T08:00:00.000Z',
  trackingNumber: 'SF1',
};

describe('sandbox platform: logistics compensations', () => {
  const { app, state } = createSandboxPlatform({ token: TOKEN });
  const compensate = (orderId: string, key: string, body: Partial<CompensationInput>) =>
    request(app)
      .post(`/v1/orders/${orderId}/compensations`)
      .set(AUTH)
      .set('Idempotency-Key', key)
      .send({ shopId: 's-cmp', kind: 'no_tracking', amountFen: 500, reason: 'no tracking for 72 h', ...body });

  beforeAll(async () => {
    await request(app)
      .post('/v1/_orders')
      .set(AUTH)
      .send({ orders: [shipped, { ...shipped, orderId: 'o-unshipped', shippedAt: null, trackingNumber: null }] })
      .expect(201);
  });

  it('pays once per key: a retry replays the first answer', async () => {
    const first = await compensate('o-cmp', 'compensation:o-cmp:no_tracking', {});
    const again = await compensate('o-cmp', 'compensation:o-cmp:no_tracking', {});
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ compensationId: expect.stringMatching(/^cmp_/), orderId: 'o-cmp', amountFen: 500 });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(state.compensations.map((c) => [c.orderId, c.kind])).toEqual([['o-cmp', 'no_tracking']]);
  });

  it.each([
    ['an order and kind already paid, under another key', 'o-cmp', {}, 'already_compensated'],
    ['an order it never published', 'o-nobody', {}, 'order_unknown'],
    ['an order of another shop', 'o-cmp', { shopId: 's-other', kind: 'lost' as const }, 'order_not_of_shop'],
    ['an order not shipped', 'o-unshipped', {}, 'order_not_shipped'],
    ['more than the order amount (1 fen over)', 'o-cmp', { kind: 'damaged' as const, amountFen: 1_001 }, 'compensation_exceeds_order'],
  ])('refuses %s with 409 and pays nothing', async (_name, orderId, body, error) => {
    const res = await compensate(orderId, `other-key:${orderId}:${error}`, body);
    expect([res.status, res.body]).toEqual([409, { error }]);
    expect(state.compensations).toHaveLength(1);
  });

  it('pays exactly the order amount', async () => {
    expect((await compensate('o-cmp', 'compensation:o-cmp:damaged', { kind: 'damaged', amountFen: 1_000 })).status).toBe(201);
  });
});
