import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, putShop, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: shop fixtures (control routes)', () => {
  const { app, state } = createSandboxPlatform({ token: TOKEN });
  const getShop = async (shopId: string) => (await request(app).get(`/v1/_shops/${shopId}`).set(AUTH).expect(200)).body;

  it('reads an unknown shop as empty without creating it', async () => {
    expect(await getShop('s-unknown')).toEqual({
      shopId: 's-unknown',
      availableProceedsFen: 0,
      monthlySales: {},
      orders: [],
      inForce: [],
      restrictionChanges: [],
      delisted: [],
      productChanges: [],
      proceedsTransfers: [],
      refunds: [],
      listings: { count: 0, upserts: 0, held: [] },
    });
    expect(state.shops.has('s-unknown')).toBe(false);
  });

  it('stores proceeds, sales and orders and answers with the whole shop', async () => {
    const fixtures = {
      availableProceedsFen: 120_000,
      monthlySales: { '2025-02': { beauty: 3_000_000, apparel: 500_000 } },
      orders: [{ orderId: 'o-1', status: 'open' as const, receiptConfirmedAt: null }],
    };
    const res = await request(app).put('/v1/_shops/s-put').set(AUTH).send(fixtures);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ shopId: 's-put', ...fixtures, inForce: [], refunds: [] });
    expect(await getShop('s-put')).toEqual(res.body);
  });

  it('merges: fields left out stay, a month given replaces that month, an order given replaces its id', async () => {
    await putShop(app, 's-merge', {
      availableProceedsFen: 10_000,
      monthlySales: { '2025-01': { food: 100 }, '2025-02': { food: 200, beauty: 300 } },
      orders: [
        { orderId: 'o-1', status: 'open', receiptConfirmedAt: null },
        { orderId: 'o-2', status: 'open', receiptConfirmedAt: null },
      ],
    });
    await putShop(app, 's-merge', {
      monthlySales: { '2025-02': { apparel: 50 } },
      orders: [
        { orderId: 'o-2', status: 'finished', receiptConfirmedAt: '2025-03-01T08:00:00+08:00' },
        { orderId: 'o-3', status: 'open', receiptConfirmedAt: null },
      ],
    });

    const shop = await getShop('s-merge');
    expect(shop.availableProceedsFen).toBe(10_000);
    expect(shop.monthlySales).toEqual({ '2025-01': { food: 100 }, '2025-02': { apparel: 50 } });
    expect(shop.orders).toEqual([
      { orderId: 'o-1', status: 'open', receiptConfirmedAt: null },
      { orderId: 'o-2', status: 'finished', receiptConfirmedAt: '2025-03-01T08:00:00+08:00' },
      { orderId: 'o-3', status: 'open', receiptConfirmedAt: null },
    ]);
  });

  it.each([
    ['negative proceeds', { availableProceedsFen: -1 }, 'availableProceedsFen'],
    ['fractional proceeds', { availableProceedsFen: 1.5 }, 'availableProceedsFen'],
    ['a month that is not YYYY-MM', { monthlySales: { '2025-13': { food: 1 } } }, 'monthlySales.2025-13'],
    ['negative sales', { monthlySales: { '2025-01': { food: -1 } } }, 'monthlySales.2025-01.food'],
    ['an unknown order status', { orders: [{ orderId: 'o-1', status: 'lost', receiptConfirmedAt: null }] }, 'orders.0.status'],
    ['a receipt time that is not ISO-8601', { orders: [{ orderId: 'o-1', status: 'open', receiptConfirmedAt: 'yesterday' }] }, 'orders.0.receiptConfirmedAt'],
    [
      'a repeated orderId',
      {
        orders: [
          { orderId: 'o-1', status: 'open', receiptConfirmedAt: null },
          { orderId: 'o-1', status: 'finished', receiptConfirmedAt: null },
        ],
      },
      'orders',
    ],
    ['an unknown field (strict schema)', { deposits: 1 }, ''],
  ])('refuses %s with 400 and keeps the shop as it was', async (_label, body, issuePath) => {
    await putShop(app, 's-invalid', { availableProceedsFen: 7, monthlySales: {}, orders: [] });
    const res = await request(app).put('/v1/_shops/s-invalid').set(AUTH).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    expect(await getShop('s-invalid')).toMatchObject({ availableProceedsFen: 7, monthlySales: {}, orders: [] });
  });

  it('needs the token but stays out of the call log and of injected failures', async () => {
    const flaky = createSandboxPlatform({ token: TOKEN, errorRate: 1 });
    expect((await request(flaky.app).put('/v1/_shops/s-ctl').send({ availableProceedsFen: 1 })).status).toBe(401);
    await request(flaky.app).put('/v1/_shops/s-ctl').set(AUTH).send({ availableProceedsFen: 1 }).expect(200);
    await request(flaky.app).get('/v1/_shops/s-ctl/').set(AUTH).expect(200);
    expect(flaky.state.calls).toEqual([]);
  });
});
