import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, aNotification, aProceedsTransfer, aRefund, aRestrictionsChange, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: call log', () => {
  const rolls: number[] = [];
  // Rolls of 1 never fail; a test pushes 0 to fail the next platform call.
  const { app } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
  const calls = async (query: Record<string, string> = {}) => {
    const res = await request(app).get('/v1/calls').query(query).set(AUTH).expect(200);
    return res.body.calls as Array<Record<string, unknown>>;
  };

  beforeEach(async () => {
    await request(app).delete('/v1/calls').set(AUTH).expect(204);
  });

  it('records each platform call with what was asked and what was answered', async () => {
    const body = aNotification({ merchantId: 'm-log' });
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'log-1').send(body);
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'log-1').send(body);
    await request(app).get('/v1/notifications?merchantId=m-log').set(AUTH);

    const log = await calls();
    expect(log).toEqual([
      { seq: expect.any(Number), at: expect.any(String), method: 'POST', path: '/v1/notifications', idempotencyKey: 'log-1', body, status: 201, replayed: false },
      { seq: expect.any(Number), at: expect.any(String), method: 'POST', path: '/v1/notifications', idempotencyKey: 'log-1', body, status: 201, replayed: true },
      { seq: expect.any(Number), at: expect.any(String), method: 'GET', path: '/v1/notifications', idempotencyKey: null, body: null, status: 200, replayed: false },
    ]);
    const seqs = log.map((c) => c.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(3);
    expect(new Date(log[0].at as string).toISOString()).toBe(log[0].at);
  });

  it('records refused and failed calls too: 401, 400, 422 and injected 503', async () => {
    await request(app).post('/v1/notifications').set('Idempotency-Key', 'k-401').send(aNotification());
    await request(app).post('/v1/notifications').set(AUTH).send(aNotification());
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'k-422').send(aNotification());
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'k-422').send(aNotification({ template: 'other' }));
    rolls.push(0);
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'k-503').send(aNotification());

    expect((await calls()).map((c) => [c.idempotencyKey, c.status])).toEqual([
      ['k-401', 401],
      [null, 400],
      ['k-422', 201],
      ['k-422', 422],
      ['k-503', 503],
    ]);
  });

  it('leaves its own control routes out of the log', async () => {
    await request(app).get('/v1/_settings').set(AUTH);
    await request(app).put('/v1/_settings').set(AUTH).send({});
    await request(app).get('/v1/calls').set(AUTH);
    expect(await calls()).toEqual([]);
  });

  it('records shop and payment calls with their keys, but not the shop fixtures', async () => {
    await request(app).put('/v1/_shops/s-log').set(AUTH).send({ availableProceedsFen: 1_000 }).expect(200);
    await request(app).get('/v1/_shops/s-log').set(AUTH).expect(200);
    await request(app).post('/v1/shops/s-log/restrictions').set(AUTH).set('Idempotency-Key', 'r-1').send(aRestrictionsChange());
    await request(app).post('/v1/shops/s-log/proceeds-transfers').set(AUTH).set('Idempotency-Key', 't-1').send(aProceedsTransfer());
    await request(app).post('/v1/payments/refunds').set(AUTH).set('Idempotency-Key', 'p-1').send(aRefund({ shopId: 's-log' }));
    await request(app).post('/v1/payments/refunds').set(AUTH).set('Idempotency-Key', 'p-1').send(aRefund({ shopId: 's-log' }));
    await request(app).get('/v1/shops/s-log/sales?month=2025-02').set(AUTH);
    await request(app).get('/v1/shops/s-log/orders').set(AUTH);

    expect((await calls()).map((c) => [c.method, c.path, c.idempotencyKey, c.status, c.replayed])).toEqual([
      ['POST', '/v1/shops/s-log/restrictions', 'r-1', 200, false],
      ['POST', '/v1/shops/s-log/proceeds-transfers', 't-1', 201, false],
      ['POST', '/v1/payments/refunds', 'p-1', 201, false],
      ['POST', '/v1/payments/refunds', 'p-1', 201, true],
      ['GET', '/v1/shops/s-log/sales', null, 200, false],
      ['GET', '/v1/shops/s-log/orders', null, 200, false],
    ]);
  });

  it('filters by path prefix and by idempotency key', async () => {
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'f-1').send(aNotification());
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'f-2').send(aNotification({ merchantId: 'm-2' }));
    await request(app).get('/v1/unknown-route').set(AUTH);

    expect((await calls({ path: '/v1/notif' })).map((c) => c.idempotencyKey)).toEqual(['f-1', 'f-2']);
    expect((await calls({ path: '/v1/unknown' })).map((c) => c.status)).toEqual([404]);
    expect((await calls({ idempotencyKey: 'f-2' })).map((c) => (c.body as { merchantId: string }).merchantId)).toEqual(['m-2']);
    expect(await calls({ path: '/v1/notifications', idempotencyKey: 'nope' })).toEqual([]);
  });

  it('refuses an unknown filter with 400', async () => {
    const res = await request(app).get('/v1/calls').query({ status: '201' }).set(AUTH);
    expect(res.status).toBe(400);
  });

  it('clears the log on DELETE', async () => {
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'c-1').send(aNotification());
    expect(await calls()).toHaveLength(1);
    await request(app).delete('/v1/calls').set(AUTH).expect(204);
    expect(await calls()).toEqual([]);
  });
});
