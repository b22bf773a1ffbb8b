import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import type { RefundInput } from '../../platform/types';
import { AUTH, aRefund, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: deposit refunds', () => {
  const rolls: number[] = [];
  // Rolls of 1 never fail; a test pushes 0 to fail the next platform call.
  const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
  const refund = (key: string, body: Partial<RefundInput> | Record<string, unknown>) =>
    request(app).post('/v1/payments/refunds').set(AUTH).set('Idempotency-Key', key).send(body);
  const refundsOf = async (shopId: string) =>
    (await request(app).get('/v1/payments/refunds').query({ shopId }).set(AUTH).expect(200)).body.refunds as Array<Record<string, unknown>>;

  it('pays a refund with 201 and lists it under its shop only', async () => {
    const deposit = await refund('pay-1', aRefund({ shopId: 's-pay', account: 'deposit', amountFen: 45_000, reference: 'closure:s-pay' }));
    const promotion = await refund('pay-2', aRefund({ shopId: 's-pay', account: 'promotion_deposit', amountFen: 50_000, reference: 'closure:s-pay' }));
    await refund('pay-3', aRefund({ shopId: 's-pay-other' }));

    expect(deposit.status).toBe(201);
    expect(deposit.body).toEqual({ refundId: expect.stringMatching(/^rfd_[0-9a-f-]{36}$/), amountFen: 45_000 });
    expect(await refundsOf('s-pay')).toEqual([
      { shopId: 's-pay', account: 'deposit', amountFen: 45_000, reference: 'closure:s-pay', refundId: deposit.body.refundId, at: expect.any(String) },
      { shopId: 's-pay', account: 'promotion_deposit', amountFen: 50_000, reference: 'closure:s-pay', refundId: promotion.body.refundId, at: expect.any(String) },
    ]);
    expect(await refundsOf('s-none')).toEqual([]);
  });

  it('pays a retried refund once: the second call replays the first refund', async () => {
    const body = aRefund({ shopId: 's-once' });
    const first = await refund('refund:s-once:deposit', body);
    const second = await refund('refund:s-once:deposit', body);

    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await refundsOf('s-once')).toEqual([expect.objectContaining({ refundId: first.body.refundId })]);
  });

  it('refuses the same key with another amount (422) and pays nothing more', async () => {
    await refund('reuse-1', aRefund({ shopId: 's-reuse', amountFen: 10_000 }));
    const reused = await refund('reuse-1', aRefund({ shopId: 's-reuse', amountFen: 20_000 }));
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({ error: 'idempotency_key_reused' });
    expect((await refundsOf('s-reuse')).map((r) => r.amountFen)).toEqual([10_000]);
  });

  it('pays nothing on an injected 503, so the same key pays once later', async () => {
    rolls.push(0);
    const failed = await refund('flaky-1', aRefund({ shopId: 's-503' }));
    expect(failed.status).toBe(503);
    expect(await refundsOf('s-503')).toEqual([]);

    const retried = await refund('flaky-1', aRefund({ shopId: 's-503' }));
    expect(retried.status).toBe(201);
    expect(await refundsOf('s-503')).toHaveLength(1);
  });

  it.each([
    ['an unknown account', { ...aRefund(), account: 'wallet' }, 'account'],
    ['a zero amount', aRefund({ amountFen: 0 }), 'amountFen'],
    ['a fractional amount (fen are whole)', aRefund({ amountFen: 99.9 }), 'amountFen'],
    ['an empty shopId', aRefund({ shopId: '' }), 'shopId'],
    ['a missing reference', { shopId: 's-1', account: 'deposit', amountFen: 1 }, 'reference'],
    ['an extra field (strict schema)', { ...aRefund(), bankCard: '6222000000000000' }, ''],
  ])('refuses %s with 400 and pays nothing', async (label, body, issuePath) => {
    const before = [...state.shops.values()].reduce((n, shop) => n + shop.refunds.length, 0);
    const res = await refund(`bad-${label}`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    expect([...state.shops.values()].reduce((n, shop) => n + shop.refunds.length, 0)).toBe(before);
  });

  it('requires an Idempotency-Key: without one a refund could be paid twice', async () => {
    const res = await request(app).post('/v1/payments/refunds').set(AUTH).send(aRefund({ shopId: 's-nokey' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'idempotency_key_required' });
    expect(await refundsOf('s-nokey')).toEqual([]);
  });

  it('lists refunds only by shop (400 without shopId)', async () => {
    expect((await request(app).get('/v1/payments/refunds').set(AUTH)).status).toBe(400);
    expect((await request(app).get('/v1/payments/refunds').query({ shopId: 's-1', account: 'deposit' }).set(AUTH)).status).toBe(400);
  });

  it('shows the refunds in the shop fixtures view', async () => {
    const paid = await refund('view-1', aRefund({ shopId: 's-view' }));
    const shop = await request(app).get('/v1/_shops/s-view').set(AUTH).expect(200);
    expect(shop.body.refunds).toEqual([expect.objectContaining({ refundId: paid.body.refundId, amountFen: 50_000 })]);
  });
});
