import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { AUTH, aNotification, TOKEN } from './sandbox-fixtures';

/** A streamer (a campaign's warning) is told by its own id; no other recipient carries one. */
describe('sandbox platform: streamer notifications', () => {
  const { app, state } = createSandboxPlatform({ token: TOKEN });
  const send = (key: string, body: object) => request(app).post('/v1/notifications').set(AUTH).set('Idempotency-Key', key).send(body);

  it('accepts a streamer notice naming the streamer and the merchant it is about', async () => {
    const res = await send('s-1', aNotification({ recipient: 'streamer', streamerId: 'ks-88', merchantId: 'm-1', template: 'campaign_streamer_warning' }));
    expect(res.status).toBe(201);
    expect(state.notifications).toEqual([expect.objectContaining({ recipient: 'streamer', streamerId: 'ks-88', merchantId: 'm-1' })]);
  });

  it.each([
    ['a streamer notice without streamerId', { recipient: 'streamer' as const }],
    ['a merchant notice with a streamerId', { recipient: 'merchant' as const, streamerId: 'ks-1' }],
    ['an empty streamerId', { recipient: 'streamer' as const, streamerId: '' }],
  ])('refuses %s with 400 and stores nothing', async (_label, over) => {
    const before = state.notifications.length;
    expect((await send(`bad-${_label}`, aNotification(over))).status).toBe(400);
    expect(state.notifications).toHaveLength(before);
  });
});
