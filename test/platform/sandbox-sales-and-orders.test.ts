import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, putShop, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: monthly sales and orders', () => {
  const { app } = createSandboxPlatform({ token: TOKEN });

  beforeAll(async () => {
    await putShop(app, 's-report', {
      monthlySales: { '2025-02': { beauty: 3_000_000, apparel: 450_000 }, '2025-03': {} },
      orders: [
        { orderId: 'o-1', status: 'finished', receiptConfirmedAt: '2025-02-20T10:00:00.000Z' },
        { orderId: 'o-2', status: 'open', receiptConfirmedAt: null },
      ],
    });
  });

  it("answers a month's GMV as the sum of its categories", async () => {
    const res = await request(app).get('/v1/shops/s-report/sales').query({ month: '2025-02' }).set(AUTH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ shopId: 's-report', month: '2025-02', gmvFen: 3_450_000, byCategory: { beauty: 3_000_000, apparel: 450_000 } });
  });

  it.each([
    ['a month without sales', 's-report', '2025-01'],
    ['a month set to no categories', 's-report', '2025-03'],
    ['an unknown shop', 's-unknown', '2025-02'],
  ])('answers 0 and no categories for %s', async (_label, shopId, month) => {
    const res = await request(app).get(`/v1/shops/${shopId}/sales`).query({ month }).set(AUTH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ shopId, month, gmvFen: 0, byCategory: {} });
  });

  it.each([
    ['no month', {}],
    ['a month without a leading zero', { month: '2025-2' }],
    ['month 13', { month: '2025-13' }],
    ['a date instead of a month', { month: '2025-02-01' }],
    ['an unknown query parameter', { month: '2025-02', category: 'beauty' }],
  ])('refuses %s with 400', async (_label, query) => {
    const res = await request(app).get('/v1/shops/s-report/sales').query(query).set(AUTH);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('lists the orders from the fixtures', async () => {
    const res = await request(app).get('/v1/shops/s-report/orders').set(AUTH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      orders: [
        { orderId: 'o-1', status: 'finished', receiptConfirmedAt: '2025-02-20T10:00:00.000Z' },
        { orderId: 'o-2', status: 'open', receiptConfirmedAt: null },
      ],
    });
  });

  it('lists no orders for an unknown shop, and refuses a query on the list', async () => {
    expect((await request(app).get('/v1/shops/s-unknown/orders').set(AUTH)).body).toEqual({ orders: [] });
    expect((await request(app).get('/v1/shops/s-report/orders').query({ status: 'open' }).set(AUTH)).status).toBe(400);
  });

  it('needs the token', async () => {
    expect((await request(app).get('/v1/shops/s-report/orders')).status).toBe(401);
    expect((await request(app).get('/v1/shops/s-report/sales').query({ month: '2025-02' })).status).toBe(401);
  });
});
