import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import type { RestrictionsChange } from '../../platform/types';
import { AUTH, aRestrictionsChange, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: shop restrictions', () => {
  const rolls: number[] = [];
  // Rolls of 1 never fail; a test pushes 0 to fail the next platform call.
  const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
  const change = (shopId: string, key: string, body: Partial<RestrictionsChange> | Record<string, unknown>) =>
    request(app).post(`/v1/shops/${shopId}/restrictions`).set(AUTH).set('Idempotency-Key', key).send(body);
  const inForce = async (shopId: string) =>
    (await request(app).get(`/v1/shops/${shopId}/restrictions`).set(AUTH).expect(200)).body.inForce as string[];

  it('starts with nothing in force', async () => {
    expect(await inForce('s-none')).toEqual([]);
  });

  it('applies and lifts as a set, listing what is in force in ladder order', async () => {
    const applied = await change('s-set', 'set-1', aRestrictionsChange({ restrictions: ['stop_sales', 'close_cart'] }));
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ shopId: 's-set', inForce: ['close_cart', 'stop_sales'] });

    const again = await change('s-set', 'set-2', aRestrictionsChange({ restrictions: ['close_cart', 'stop_listing', 'stop_listing'] }));
    expect(again.body.inForce).toEqual(['close_cart', 'stop_listing', 'stop_sales']);

    const lifted = await change('s-set', 'set-3', aRestrictionsChange({ action: 'lift', restrictions: ['close_cart', 'restrict_withdrawals'] }));
    expect(lifted.body.inForce).toEqual(['stop_listing', 'stop_sales']);
    expect(await inForce('s-set')).toEqual(['stop_listing', 'stop_sales']);

    const all = await change('s-set', 'set-4', aRestrictionsChange({ action: 'lift', restrictions: ['close_cart', 'stop_listing', 'stop_sales', 'restrict_withdrawals'] }));
    expect(all.body.inForce).toEqual([]);
    expect(await inForce('s-set')).toEqual([]);
  });

  it('applies and lifts the violation penalties (disable_api, bar_big_promotions), listed after the ladder ones', async () => {
    const applied = await change('s-penalty', 'penalty-1', aRestrictionsChange({ restrictions: ['bar_big_promotions', 'disable_api', 'stop_sales'], reason: 'qualification_mismatch:case-3' }));
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ shopId: 's-penalty', inForce: ['stop_sales', 'disable_api', 'bar_big_promotions'] });

    const lifted = await change('s-penalty', 'penalty-2', aRestrictionsChange({ action: 'lift', restrictions: ['bar_big_promotions'] }));
    expect(lifted.body.inForce).toEqual(['stop_sales', 'disable_api']);
    expect(await inForce('s-penalty')).toEqual(['stop_sales', 'disable_api']);

    const rest = await change('s-penalty', 'penalty-3', aRestrictionsChange({ action: 'lift', restrictions: ['disable_api', 'stop_sales'] }));
    expect(rest.body.inForce).toEqual([]);
    expect(state.shops.get('s-penalty')?.restrictionChanges.map((c) => [c.action, c.restrictions])).toEqual([
      ['apply', ['bar_big_promotions', 'disable_api', 'stop_sales']],
      ['lift', ['bar_big_promotions']],
      ['lift', ['disable_api', 'stop_sales']],
    ]);
  });

  it('keeps restrictions per shop and records each change with its reason', async () => {
    await change('s-a', 'per-shop-1', aRestrictionsChange({ restrictions: ['restrict_withdrawals'], reason: 'shortfall:case-9' }));
    expect(await inForce('s-a')).toEqual(['restrict_withdrawals']);
    expect(await inForce('s-b')).toEqual([]);
    expect(state.shops.get('s-a')?.restrictionChanges).toEqual([
      { action: 'apply', restrictions: ['restrict_withdrawals'], reason: 'shortfall:case-9', at: expect.any(String) },
    ]);
  });

  it('replays a retried change without applying it twice, even after later changes', async () => {
    const body = aRestrictionsChange({ restrictions: ['close_cart'] });
    const first = await change('s-replay', 'replay-1', body);
    await change('s-replay', 'replay-2', aRestrictionsChange({ action: 'lift', restrictions: ['close_cart'] }));
    const retried = await change('s-replay', 'replay-1', body);

    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body).toEqual(first.body);
    expect(await inForce('s-replay')).toEqual([]);
    expect(state.shops.get('s-replay')?.restrictionChanges).toHaveLength(2);
  });

  it('refuses the same key for another change (422) and changes nothing', async () => {
    await change('s-reuse', 'reuse-1', aRestrictionsChange({ restrictions: ['close_cart'] }));
    const otherBody = await change('s-reuse', 'reuse-1', aRestrictionsChange({ restrictions: ['stop_sales'] }));
    const otherShop = await change('s-reuse-2', 'reuse-1', aRestrictionsChange({ restrictions: ['close_cart'] }));

    expect([otherBody.status, otherShop.status]).toEqual([422, 422]);
    expect(otherBody.body).toEqual({ error: 'idempotency_key_reused' });
    expect(await inForce('s-reuse')).toEqual(['close_cart']);
    expect(await inForce('s-reuse-2')).toEqual([]);
  });

  it('changes nothing on an injected 503, so the same key succeeds later', async () => {
    rolls.push(0);
    const failed = await change('s-503', 'flaky-1', aRestrictionsChange());
    expect(failed.status).toBe(503);
    expect(state.shops.has('s-503')).toBe(false);

    const retried = await change('s-503', 'flaky-1', aRestrictionsChange());
    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await inForce('s-503')).toEqual(['close_cart']);
  });

  it.each([
    ['an unknown restriction', aRestrictionsChange({ restrictions: ['close_shop' as never] }), 'restrictions.0'],
    ['no restrictions', aRestrictionsChange({ restrictions: [] }), 'restrictions'],
    ['an unknown action', { ...aRestrictionsChange(), action: 'toggle' }, 'action'],
    ['an empty reason', aRestrictionsChange({ reason: '' }), 'reason'],
    ['a missing reason', { action: 'apply', restrictions: ['close_cart'] }, 'reason'],
    ['an extra field (strict schema)', { ...aRestrictionsChange(), until: '2025-03-01' }, ''],
  ])('refuses %s with 400 and changes nothing', async (label, body, issuePath) => {
    const res = await change('s-invalid', `bad-${label}`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    expect(await inForce('s-invalid')).toEqual([]);
  });

  it('requires an Idempotency-Key', async () => {
    const res = await request(app).post('/v1/shops/s-nokey/restrictions').set(AUTH).send(aRestrictionsChange());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'idempotency_key_required' });
    expect(await inForce('s-nokey')).toEqual([]);
  });

  it('refuses an unknown query on the read with 400', async () => {
    const res = await request(app).get('/v1/shops/s-1/restrictions').query({ all: 'true' }).set(AUTH);
    expect(res.status).toBe(400);
  });
});
