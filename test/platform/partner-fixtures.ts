import type { Express } from 'express';
import request from 'supertest';
import type { PartnerApp } from '../../platform/sandbox/partners';

export const PARTNER_APP: PartnerApp = {
  appId: 'mo-test-app',
  appSecret: 'test-app-secret-0123456789',
  redirectUris: ['https://ops.example.test/v1/bindings/oauth/youzan/callback?tenant=a b'],
};
export const CALLBACK = PARTNER_APP.redirectUris[0];
export const APP_AUTH = { Authorization: `Basic ${Buffer.from(`${PARTNER_APP.appId}:${PARTNER_APP.appSecret}`).toString('base64')}` };

export const USCC = '91330100MA2H3X4Y5Z';
export const ID_NUMBER = '110101199003071234';

/** A movable clock for the partners' code and token expiry. */
export function testClock(start = Date.parse('2026-12-01T00:00:00Z')) {
  let at = start;
  return { now: () => at, advanceSeconds: (s: number) => (at += s * 1000) };
}

export async function putPartnerStore(app: Express, platform: string, storeId: string, extra: Record<string, unknown> = {}): Promise<void> {
  await request(app)
    .put(`/partners/_stores/${platform}/${storeId}`)
    .send({ storeName: `${platform} store ${storeId}`, entity: { kind: 'enterprise', name: '杭州某某贸易有限公司', uscc: USCC }, ...extra })
    .expect(200);
}

/** Plays the merchant's consent on Youzan: the code the authorize redirect carries back. */
export async function consent(app: Express, storeId: string, scope = 'basic', state = 'st-1'): Promise<string> {
  const res = await request(app)
    .get('/partners/youzan/oauth/authorize')
    .query({ response_type: 'code', client_id: PARTNER_APP.appId, redirect_uri: CALLBACK, state, scope, store_id: storeId })
    .expect(302);
  const code = new URL(res.headers.location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${res.headers.location}`);
  return code;
}
