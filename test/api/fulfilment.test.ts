import { createFulfilmentRepository } from '../../db/repositories/fulfilment';
import { compensationFen } from '../../domain/fulfilment';
import type { TokenClaims } from '../../security/tokens';
import { fulfilmentOrder as order, HOUR, plus, publishAndImport, shanghai } from '../support/fulfilment';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectAnsweredAsMissing, expectProblem, merchant, staff, type Api } from './http';

/** The fulfilment read routes over what the scan's repository wrote (docs/rules.md §5.4). */
describe('fulfilment routes: shipping rate, order mapping, logistics exceptions', () => {
  let stack: Stack;
  let api: Api;
  const friday = shanghai('2026-12-04T20:00:00');
  const saturday = shanghai('2026-12-05T20:00:00');

  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
    await publishAndImport(stack.sandbox.state, stack.db, [
      order('o-api-1', 'm-api-a', { paidAt: friday, shippedAt: plus(friday, HOUR), trackingNumber: 'SF1', partnerOrder: { platform: 'youzan', orderId: 'E2026120400001' } }),
      order('o-api-2', 'm-api-a', { paidAt: friday }),
      order('o-api-3', 'm-api-a', { paidAt: saturday, shippedAt: plus(saturday, HOUR), trackingNumber: 'SF3', logisticsException: 'lost', amountFen: 40_000 }),
      order('o-api-b', 'm-api-b', { paidAt: friday, partnerOrder: { platform: 'youzan', orderId: 'E2026120400002' } }),
    ]);
    const repo = createFulfilmentRepository(stack.db);
    await repo.recordDuePage(new Date(shanghai('2026-12-10T00:00:00')), 1_000);
    const reported = await repo.reportedExceptions('', 100);
    await repo.recordExceptions(reported.map((r) => ({ ...r, compensationFen: compensationFen(Number(r.amount_fen)) })));
  }, 120_000);
  afterAll(async () => {
    await stack?.teardown();
  });

  const rate = (shopId: string, query: string, claims: TokenClaims = staff.ops) => api.get(`/v1/fulfilment/shops/${shopId}/shipping-rate?${query}`, claims);

  test("ops read a shop's rate per deadline day, and the total", async () => {
    const res = await rate('shop-m-api-a', 'from=2026-12-01&to=2026-12-31');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      shopId: 'shop-m-api-a',
      from: '2026-12-01',
      to: '2026-12-31',
      days: [
        { day: '2026-12-06', due: 2, late: 1, rateBp: 5_000 },
        { day: '2026-12-07', due: 1, late: 0, rateBp: 10_000 },
      ],
      total: { due: 3, late: 1, rateBp: 6_666 },
    });
    // The range is inclusive at both ends.
    expect((await rate('shop-m-api-a', 'from=2026-12-07&to=2026-12-07')).body.days).toEqual([{ day: '2026-12-07', due: 1, late: 0, rateBp: 10_000 }]);
  });

  test("a merchant reads its own shop's rate; another merchant's shop is answered as nothing", async () => {
    expect((await rate('shop-m-api-a', 'from=2026-12-01&to=2026-12-31', merchant('m-api-a'))).body.total).toEqual({ due: 3, late: 1, rateBp: 6_666 });
    const intruder = await rate('shop-m-api-a', 'from=2026-12-01&to=2026-12-31', merchant('m-api-b'));
    expect(intruder.status).toBe(200);
    expect(intruder.body.days).toEqual([]);
    expectProblem(await rate('shop-m-api-a', 'from=2026-12-01&to=2026-12-31', staff.reviewer), 403, 'forbidden');
  });

  test("another merchant's shop answers exactly as a shop that does not exist, so shop ids cannot be probed", async () => {
    await stack.db('merchants').insert({ id: 'm-api-b', entity_type: 'enterprise', legal_name: 'Merchant B', verification_status: 'approved' }).onConflict('id').ignore();
    await stack.db('shops').insert({ id: 'shop-m-api-b', merchant_id: 'm-api-b', shop_type: 'flagship', status: 'open', opened_by_case_id: 'case-m-api-b' }).onConflict('id').ignore();
    // The shop has a day with an order due: ops see it.
    expect((await rate('shop-m-api-b', 'from=2026-12-01&to=2026-12-31')).body.total.due).toBe(1);
    const strip = (res: { status: number; body: Record<string, unknown> }) => ({ status: res.status, body: { ...res.body, shopId: '<id>' } });
    const intruder = await rate('shop-m-api-b', 'from=2026-12-01&to=2026-12-31', merchant('m-api-a'));
    const unknown = await rate('shop-m-api-zz', 'from=2026-12-01&to=2026-12-31', merchant('m-api-a'));
    expect(strip(intruder)).toEqual(strip(unknown));
    expect(intruder.body.days).toEqual([]);
  });

  test('text that cannot be stored or is too long in a path or a query is a 400, never a 500', async () => {
    const huge = 'x'.repeat(10_000);
    for (const path of [
      '/v1/fulfilment/shops/shop%00a/shipping-rate?from=2026-12-01&to=2026-12-02',
      '/v1/fulfilment/shops/shop-m-api-a/shipping-rate?from=2026-12-01%00&to=2026-12-02',
      '/v1/fulfilment/shops/shop-m-api-a/shipping-rate?from=2026-12-01&from=2026-12-02&to=2026-12-02',
      `/v1/fulfilment/shops/${huge}/shipping-rate?from=2026-12-01&to=2026-12-02`,
      '/v1/fulfilment/orders/o%00a/mapping',
      '/v1/fulfilment/orders/o%ED%A0%80/mapping',
      `/v1/fulfilment/partner-orders/youzan/${huge}/mapping`,
      '/v1/fulfilment/logistics-exceptions?shopId=%ED%A0%80',
      '/v1/fulfilment/logistics-exceptions?merchantId=m%00',
      `/v1/fulfilment/logistics-exceptions?cursor=${huge}`,
    ]) {
      const res = await api.get(path, staff.ops);
      expect({ path: path.slice(0, 120), status: res.status }).toEqual({ path: path.slice(0, 120), status: 400 });
    }
  });

  test('a range that is backwards, too long, not a date, or has an unknown parameter is a 400', async () => {
    for (const query of ['from=2026-12-02&to=2026-12-01', 'from=2026-01-01&to=2026-04-03', 'from=2026-02-30&to=2026-03-01', 'from=2026-12-01&to=2026-12-02&x=1', 'from=2026-12-01']) {
      expectProblem(await rate('shop-m-api-a', query), 400, 'invalid_request', { issues: expect.any(Array) });
    }
    // 92 days exactly is allowed.
    expect((await rate('shop-m-api-a', 'from=2026-10-01&to=2026-12-31')).status).toBe(200);
  });

  test('the order mapping answers both ways, scoped to the merchant', async () => {
    const mapping = { orderId: 'o-api-1', merchantId: 'm-api-a', shopId: 'shop-m-api-a', partnerOrder: { platform: 'youzan', orderId: 'E2026120400001' } };
    expect((await api.get('/v1/fulfilment/orders/o-api-1/mapping', staff.ops)).body).toEqual(mapping);
    expect((await api.get('/v1/fulfilment/partner-orders/youzan/E2026120400001/mapping', merchant('m-api-a'))).body).toEqual(mapping);
    expect((await api.get('/v1/fulfilment/orders/o-api-2/mapping', merchant('m-api-a'))).body.partnerOrder).toBeNull();

    const intruder = await api.get('/v1/fulfilment/partner-orders/youzan/E2026120400002/mapping', merchant('m-api-a'));
    const missing = await api.get('/v1/fulfilment/partner-orders/youzan/E2026129999999/mapping', merchant('m-api-a'));
    expectAnsweredAsMissing(intruder, missing, { existing: 'E2026120400002', unknown: 'E2026129999999' });
    expectProblem(await api.get('/v1/fulfilment/orders/o-api-b/mapping', merchant('m-api-a')), 404, 'not_found');
    expectProblem(await api.get('/v1/fulfilment/partner-orders/ebay/E1/mapping', staff.ops), 400, 'invalid_request', { issues: expect.any(Array) });
  });

  test('logistics exceptions list with their compensation, scoped to the merchant', async () => {
    const res = await api.get('/v1/fulfilment/logistics-exceptions?shopId=shop-m-api-a', staff.finance);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        expect.objectContaining({ orderId: 'o-api-3', kind: 'lost', orderAmountFen: 40_000, compensationFen: 1_200, status: 'pending', compensationId: null, refusedReason: null, settledAt: null }),
      ],
      nextCursor: null,
    });
    expect((await api.get('/v1/fulfilment/logistics-exceptions', merchant('m-api-b'))).body.items).toEqual([]);
    expectProblem(await api.get('/v1/fulfilment/logistics-exceptions?merchantId=m-api-a', merchant('m-api-b')), 404, 'not_found');
    expectProblem(await api.get('/v1/fulfilment/logistics-exceptions?kind=stolen', staff.ops), 400, 'invalid_request', { issues: expect.any(Array) });
  });
});
