import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, aNotification, aProceedsTransfer, aRefund, aRestrictionsChange, putShop, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: failure injection and settings', () => {
  it('with errorRate 1 answers 503 before any side effect, so the same key succeeds later', async () => {
    const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 1 });
    const send = () => request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'flaky-1').send(aNotification());

    const failed = await send();
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ error: 'sandbox_unavailable' });
    expect(state.notifications).toHaveLength(0);

    const settings = await request(app).put('/v1/_settings').set(AUTH).send({ errorRate: 0 });
    expect(settings.status).toBe(200);
    const retried = await send();
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(state.notifications).toHaveLength(1);
  });

  it.each([
    ['POST', '/v1/shops/s-1/restrictions', aRestrictionsChange()],
    ['GET', '/v1/shops/s-1/restrictions', undefined],
    ['POST', '/v1/shops/s-1/proceeds-transfers', aProceedsTransfer()],
    ['POST', '/v1/payments/refunds', aRefund({ shopId: 's-1' })],
    ['GET', '/v1/payments/refunds?shopId=s-1', undefined],
    ['GET', '/v1/shops/s-1/sales?month=2025-02', undefined],
    ['GET', '/v1/shops/s-1/orders', undefined],
  ])('with errorRate 1 fails %s %s with 503 and leaves the shop as it was', async (method, path, body) => {
    const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 1 });
    await putShop(app, 's-1', { availableProceedsFen: 100_000 });
    const before = structuredClone(state.shops.get('s-1'));

    const req = method === 'POST' ? request(app).post(path).set('Idempotency-Key', 'flaky-shop-1').send(body) : request(app).get(path);
    const res = await req.set(AUTH);

    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'sandbox_unavailable' });
    expect(state.shops.get('s-1')).toEqual(before);
    expect(state.idempotency.size).toBe(0);
  });

  it('fails a request exactly when the dice roll under errorRate', async () => {
    const rolls = [0.49, 0.5, 0.51];
    const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
    const statuses: number[] = [];
    for (const key of ['r-1', 'r-2', 'r-3']) {
      statuses.push((await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', key).send(aNotification())).status);
    }
    expect(statuses).toEqual([503, 201, 201]);
    expect(state.notifications).toHaveLength(2);
  });

  it('delays platform responses by latencyMs but leaves the control routes quick', async () => {
    const { app } = createSandboxPlatform({ token: TOKEN, latencyMs: 200 });

    const started = Date.now();
    await request(app).get('/v1/notifications').set(AUTH).expect(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    // A control call made while a platform call sleeps out its latency answers first: it is not
    // delayed (an order of events, not a stopwatch).
    const order: string[] = [];
    const slow = request(app).get('/v1/notifications').set(AUTH).then((res) => order.push(`platform ${res.status}`));
    await request(app).put('/v1/_settings').set(AUTH).send({ latencyMs: 0 }).expect(200);
    order.push('control 200');
    await slow;
    expect(order).toEqual(['control 200', 'platform 200']);
  });

  it('keeps the control routes reachable while every platform call fails', async () => {
    const { app } = createSandboxPlatform({ token: TOKEN, errorRate: 1 });
    const res = await request(app).get('/v1/_settings').set(AUTH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ latencyMs: 0, errorRate: 1 });
  });

  it('updates only the settings given and reports them', async () => {
    const { app, state } = createSandboxPlatform({ token: TOKEN, latencyMs: 5, errorRate: 0.1 });
    const res = await request(app).put('/v1/_settings').set(AUTH).send({ errorRate: 0.25 });
    expect(res.body).toEqual({ latencyMs: 5, errorRate: 0.25 });
    expect(state.settings).toEqual({ latencyMs: 5, errorRate: 0.25 });
    expect((await request(app).get('/v1/_settings').set(AUTH)).body).toEqual({ latencyMs: 5, errorRate: 0.25 });
  });

  it.each([
    ['errorRate above 1', { errorRate: 1.5 }, 'errorRate'],
    ['negative latency', { latencyMs: -1 }, 'latencyMs'],
    ['fractional latency', { latencyMs: 1.5 }, 'latencyMs'],
    ['a string rate', { errorRate: '0.5' }, 'errorRate'],
    ['an unknown setting', { timeoutMs: 10 }, ''],
  ])('refuses %s with 400 and keeps the old settings', async (_label, body, issuePath) => {
    const { app, state } = createSandboxPlatform({ token: TOKEN });
    const res = await request(app).put('/v1/_settings').set(AUTH).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    expect(state.settings).toEqual({ latencyMs: 0, errorRate: 0 });
  });

  it('refuses impossible settings at construction', () => {
    expect(() => createSandboxPlatform({ token: TOKEN, errorRate: 2 })).toThrow();
    expect(() => createSandboxPlatform({ token: '' })).toThrow('non-empty token');
  });
});
