import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, aProductsChange, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: product delisting and relisting', () => {
  const rolls: number[] = [];
  // Rolls of 1 never fail; a test pushes 0 to fail the next platform call.
  const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
  const post = (action: 'delist' | 'relist', shopId: string, key: string, body: object) =>
    request(app).post(`/v1/shops/${shopId}/products/${action}`).set(AUTH).set('Idempotency-Key', key).send(body);
  const delisted = async (shopId: string) => (await request(app).get(`/v1/_shops/${shopId}`).set(AUTH).expect(200)).body.delisted as string[];

  it('delists and relists as a set, answering every delisted id sorted', async () => {
    const first = await post('delist', 's-set', 'set-1', aProductsChange({ productIds: ['p-9', 'p-2'] }));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ delisted: ['p-2', 'p-9'] });

    const more = await post('delist', 's-set', 'set-2', aProductsChange({ productIds: ['p-5', 'p-2', 'p-5'] }));
    expect(more.body).toEqual({ delisted: ['p-2', 'p-5', 'p-9'] });

    // p-7 was never delisted: relisting it is a no-op, not an error.
    const relisted = await post('relist', 's-set', 'set-3', aProductsChange({ productIds: ['p-9', 'p-7'] }));
    expect(relisted.status).toBe(200);
    expect(relisted.body).toEqual({ delisted: ['p-2', 'p-5'] });
    expect(await delisted('s-set')).toEqual(['p-2', 'p-5']);
  });

  it('keeps products per shop and records each change with its action and reason', async () => {
    await post('delist', 's-a', 'per-shop-1', aProductsChange({ productIds: ['p-1'], reason: 'price_violation:case-9' }));
    await post('relist', 's-a', 'per-shop-2', aProductsChange({ productIds: ['p-1'], reason: 'appeal_upheld:case-9' }));
    await post('delist', 's-a', 'per-shop-3', aProductsChange({ productIds: ['p-3'] }));

    expect(await delisted('s-a')).toEqual(['p-3']);
    expect(await delisted('s-b')).toEqual([]);
    const shop = (await request(app).get('/v1/_shops/s-a').set(AUTH).expect(200)).body;
    expect(shop.productChanges).toEqual([
      { action: 'delist', productIds: ['p-1'], reason: 'price_violation:case-9', at: expect.any(String) },
      { action: 'relist', productIds: ['p-1'], reason: 'appeal_upheld:case-9', at: expect.any(String) },
      { action: 'delist', productIds: ['p-3'], reason: 'price_violation:case-1', at: expect.any(String) },
    ]);
  });

  it('replays a retried delisting without acting again, even after a relisting', async () => {
    const body = aProductsChange({ productIds: ['p-1', 'p-2'] });
    const first = await post('delist', 's-replay', 'replay-1', body);
    await post('relist', 's-replay', 'replay-2', aProductsChange({ productIds: ['p-1', 'p-2'] }));
    const retried = await post('delist', 's-replay', 'replay-1', body);

    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body).toEqual(first.body);
    expect(retried.body).toEqual({ delisted: ['p-1', 'p-2'] });
    expect(await delisted('s-replay')).toEqual([]);
    expect(state.shops.get('s-replay')?.productChanges).toHaveLength(2);
  });

  it('refuses a key reused for other products, another action or another shop (422) and changes nothing', async () => {
    await post('delist', 's-reuse', 'reuse-1', aProductsChange({ productIds: ['p-1'] }));
    const otherBody = await post('delist', 's-reuse', 'reuse-1', aProductsChange({ productIds: ['p-2'] }));
    const otherAction = await post('relist', 's-reuse', 'reuse-1', aProductsChange({ productIds: ['p-1'] }));
    const otherShop = await post('delist', 's-reuse-2', 'reuse-1', aProductsChange({ productIds: ['p-1'] }));

    expect([otherBody.status, otherAction.status, otherShop.status]).toEqual([422, 422, 422]);
    expect(otherBody.body).toEqual({ error: 'idempotency_key_reused' });
    expect(await delisted('s-reuse')).toEqual(['p-1']);
    expect(state.shops.has('s-reuse-2')).toBe(false);
  });

  it('changes nothing on an injected 503, so the same key succeeds later', async () => {
    rolls.push(0);
    const failed = await post('delist', 's-503', 'flaky-1', aProductsChange());
    expect(failed.status).toBe(503);
    expect(state.shops.has('s-503')).toBe(false);

    const retried = await post('delist', 's-503', 'flaky-1', aProductsChange());
    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await delisted('s-503')).toEqual(['p-1']);
  });

  const tooMany = Array.from({ length: 201 }, (_, i) => `p-${i}`);
  it.each([
    ['no products', aProductsChange({ productIds: [] }), 'productIds'],
    ['201 products', aProductsChange({ productIds: tooMany }), 'productIds'],
    ['an empty product id', aProductsChange({ productIds: ['p-1', ''] }), 'productIds.1'],
    ['a product id that is not a string', { ...aProductsChange(), productIds: [42] }, 'productIds.0'],
    ['productIds that is not a list', { ...aProductsChange(), productIds: 'p-1' }, 'productIds'],
    ['an empty reason', aProductsChange({ reason: '' }), 'reason'],
    ['a missing reason', { productIds: ['p-1'] }, 'reason'],
    ['an extra field (strict schema)', { ...aProductsChange(), until: '2025-03-01' }, ''],
  ])('refuses %s with 400 on both routes and changes nothing', async (label, body, issuePath) => {
    for (const action of ['delist', 'relist'] as const) {
      const res = await post(action, 's-invalid', `bad-${action}-${label}`, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    }
    expect(state.shops.has('s-invalid')).toBe(false);
  });

  it('takes exactly 200 products in one call', async () => {
    const res = await post('delist', 's-200', 'max-1', aProductsChange({ productIds: tooMany.slice(0, 200) }));
    expect(res.status).toBe(200);
    expect(res.body.delisted).toHaveLength(200);
  });

  it.each(['delist', 'relist'] as const)('%s requires an Idempotency-Key', async (action) => {
    const res = await request(app).post(`/v1/shops/s-nokey/products/${action}`).set(AUTH).send(aProductsChange());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'idempotency_key_required' });
    expect(state.shops.has('s-nokey')).toBe(false);
  });

  it.each([
    ['no token', 's-auth-none', {}],
    ['a wrong token', 's-auth-wrong', { Authorization: 'Bearer not-the-token' }],
  ])('refuses %s with 401 and changes nothing', async (_label, shopId, headers) => {
    for (const action of ['delist', 'relist'] as const) {
      const res = await request(app).post(`/v1/shops/${shopId}/products/${action}`).set(headers).set('Idempotency-Key', `${shopId}-${action}`).send(aProductsChange());
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'unauthorized' });
    }
    expect(state.shops.has(shopId)).toBe(false);
    // The refused key was never stored, so it acts (no replay) once the token is right.
    const authorised = await post('delist', shopId, `${shopId}-delist`, aProductsChange());
    expect(authorised.status).toBe(200);
    expect(authorised.headers['idempotent-replayed']).toBeUndefined();
  });
});
