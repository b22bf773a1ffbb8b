import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, aNotification, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: auth and notifications', () => {
  const { app, state } = createSandboxPlatform({ token: TOKEN });

  it('answers /health without a token', async () => {
    const res = await request(app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { Authorization: 'Bearer not-the-token' }],
    ['a non-Bearer scheme', { Authorization: `Basic ${TOKEN}` }],
  ])('refuses %s with 401 and stores nothing', async (_label, headers) => {
    const res = await request(app).post('/v1/notifications').set(headers).set('Idempotency-Key', 'auth-1').send(aNotification());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized' });
    expect(state.notifications).toHaveLength(0);
  });

  it('guards the control routes with the token as well', async () => {
    expect((await request(app).get('/v1/_settings')).status).toBe(401);
    expect((await request(app).get('/v1/calls')).status).toBe(401);
  });

  it('accepts a notification with 201 and lists it by merchant', async () => {
    const res = await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'n-1').send(aNotification({ merchantId: 'm-list' }));
    await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', 'n-2').send(aNotification({ merchantId: 'm-other' }));

    expect(res.status).toBe(201);
    expect(res.body.notificationId).toMatch(/^ntf_[0-9a-f-]{36}$/);
    expect(new Date(res.body.acceptedAt).toISOString()).toBe(res.body.acceptedAt);

    const list = await request(app).get('/v1/notifications').query({ merchantId: 'm-list' }).set(AUTH);
    expect(list.status).toBe(200);
    expect(list.body.notifications).toEqual([{ ...aNotification({ merchantId: 'm-list' }), ...res.body }]);
  });

  it.each([
    ['an unknown recipient', { ...aNotification(), recipient: 'customer' }, 'recipient'],
    ['an extra field (strict schema)', { ...aNotification(), phone: '13800000000' }, ''],
    ['an empty merchantId', aNotification({ merchantId: '' }), 'merchantId'],
    ['a missing template', { recipient: 'ops', merchantId: 'm-1' }, 'template'],
  ])('refuses %s with 400 and its issues, storing nothing', async (_label, body, issuePath) => {
    const before = state.notifications.length;
    const res = await request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', `bad-${issuePath}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    expect(state.notifications).toHaveLength(before);
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await request(app)
      .post('/v1/notifications')
      .set(AUTH)
      .set('Idempotency-Key', 'bad-json')
      .set('Content-Type', 'application/json')
      .send('{"recipient":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'entity_parse_failed' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(app).get('/v1/refunds').set(AUTH);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found' });
  });
});
