import request from 'supertest';
import { Client } from '@temporalio/client';
import { signToken, maxTokenLifetimeSeconds } from '../../security/tokens';
import type { PermissionLevel } from '../../platform/partners/types';
import { bindingStateQuery, type StoreBindingState } from '../../workflows/store-binding.defs';
import { eventually, residentIdOf } from './fixtures';
import { storeKey, type FakePartnerGateway } from './partner-gateway-fake';
import type { Stack } from './stack';

/** The legal name individualRequest verifies merchants under. */
export const MERCHANT_NAME = '张三';

/** Stores on every partner held by the merchant's own verified entity (an individual). */
export function seedPartnerStores(fake: FakePartnerGateway, merchantId: string): { youzan: string; taobao: string; jd: string; pinduoduo: string } {
  const entity = { kind: 'individual' as const, name: MERCHANT_NAME, idNumber: residentIdOf(merchantId) };
  const ids = { youzan: `yz-${merchantId}`, taobao: `tb-${merchantId}`, jd: `jd-${merchantId}`, pinduoduo: `pdd-${merchantId}` };
  fake.stores.set(storeKey('youzan', ids.youzan), { platform: 'youzan', storeId: ids.youzan, storeName: 'yz store', entity });
  fake.stores.set(storeKey('taobao', ids.taobao), { platform: 'taobao', storeId: ids.taobao, storeName: 'tb store', entity, taobaokeOpen: true });
  fake.stores.set(storeKey('jd', ids.jd), { platform: 'jd', storeId: ids.jd, storeName: 'jd store', entity, selfOperated: true });
  fake.stores.set(storeKey('pinduoduo', ids.pinduoduo), { platform: 'pinduoduo', storeId: ids.pinduoduo, storeName: 'pdd store', entity });
  return ids;
}

export const merchantClaims = (merchantId: string) => ({ sub: `u-${merchantId}`, role: 'merchant' as const, merchantId });

/** The bindings API as a merchant (or any claims) uses it. */
export function bindingApi(stack: Stack) {
  const auth = { secret: stack.config.JWT_SECRET, issuer: stack.config.JWT_ISSUER, audience: stack.config.JWT_AUDIENCE };
  const bearer = async (claims: Parameters<typeof signToken>[1]) => `Bearer ${await signToken(auth, claims, maxTokenLifetimeSeconds(claims.role, stack.config))}`;
  const api = {
    post: async (path: string, claims: Parameters<typeof signToken>[1], body: object = {}) => request(stack.app).post(path).set('Authorization', await bearer(claims)).send(body),
    get: async (path: string, claims: Parameters<typeof signToken>[1]) => request(stack.app).get(path).set('Authorization', await bearer(claims)),
    callback: (query: Record<string, string>) => request(stack.app).get('/v1/bindings/oauth/youzan/callback').query(query),
    /** The state a consent link carries. */
    stateOf: (authorizeUrl: string) => new URL(authorizeUrl).searchParams.get('state')!,
  };
  return api;
}

/** Starts a Youzan binding and completes its OAuth flow: the binding id, bound. */
export async function bindYouzan(stack: Stack, fake: FakePartnerGateway, merchantId: string, storeId: string, level: PermissionLevel = 'basic'): Promise<string> {
  const api = bindingApi(stack);
  const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId, level });
  if (started.status !== 201) throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body)}`);
  const bound = await api.callback({ code: fake.consent(storeId, level), state: api.stateOf(started.body.authorizeUrl) });
  if (bound.status !== 200 || bound.body.status !== 'bound') throw new Error(`callback failed: ${bound.status} ${JSON.stringify(bound.body)}`);
  return started.body.bindingId as string;
}

/** The process's state, read without skipping time. */
export function bindingState(stack: Stack, workflowId: string, done: (s: StoreBindingState) => boolean = () => true, timeoutMs = 30_000): Promise<StoreBindingState> {
  const handle = new Client({ connection: stack.env.connection }).workflow.getHandle(workflowId);
  return eventually(() => handle.query(bindingStateQuery), done, timeoutMs);
}
