import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, aNotification, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: idempotency of mutating routes', () => {
  const { app, state } = createSandboxPlatform({ token: TOKEN });
  const post = (key: string | undefined, body: object) => {
    const req = request(app).post('/v1/notifications').set(AUTH);
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
  };
  const storedFor = (merchantId: string) => state.notifications.filter((n) => n.merchantId === merchantId);

  it('requires an Idempotency-Key (400) and then does nothing', async () => {
    const res = await post(undefined, aNotification({ merchantId: 'm-nokey' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'idempotency_key_required' });
    expect(storedFor('m-nokey')).toHaveLength(0);
  });

  it('replays the first response for the same key and body, with one side effect', async () => {
    const body = aNotification({ merchantId: 'm-replay' });
    const first = await post('replay-1', body);
    const second = await post('replay-1', body);

    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(storedFor('m-replay')).toEqual([expect.objectContaining({ notificationId: first.body.notificationId })]);
  });

  it('treats a body with the same fields in another order as the same request', async () => {
    const first = await post('order-1', { recipient: 'ops', merchantId: 'm-order', template: 't', data: { a: 1, b: 2 } });
    const second = await post('order-1', { data: { b: 2, a: 1 }, template: 't', merchantId: 'm-order', recipient: 'ops' });
    expect(second.status).toBe(201);
    expect(second.body.notificationId).toBe(first.body.notificationId);
    expect(storedFor('m-order')).toHaveLength(1);
  });

  it('refuses the same key with a different body (422) and changes nothing', async () => {
    const first = await post('reuse-1', aNotification({ merchantId: 'm-reuse' }));
    const reused = await post('reuse-1', aNotification({ merchantId: 'm-reuse', template: 'another_template' }));

    expect(first.status).toBe(201);
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({ error: 'idempotency_key_reused' });
    expect(storedFor('m-reuse')).toEqual([expect.objectContaining({ template: 'deposit_shortfall' })]);
  });

  it('does not burn a key on a request that failed validation', async () => {
    const invalid = await post('fix-1', { ...aNotification({ merchantId: 'm-fix' }), recipient: 'nobody' });
    const fixed = await post('fix-1', aNotification({ merchantId: 'm-fix' }));
    expect(invalid.status).toBe(400);
    expect(fixed.status).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(storedFor('m-fix')).toHaveLength(1);
  });

  it('runs concurrent twins once', async () => {
    const body = aNotification({ merchantId: 'm-twins' });
    const responses = await Promise.all([post('twins-1', body), post('twins-1', body), post('twins-1', body)]);
    const ids = new Set(responses.map((r) => r.body.notificationId));
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(ids.size).toBe(1);
    expect(storedFor('m-twins')).toHaveLength(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
  });
});
