import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import type {
  JdUnionAuthorisation,
  OAuthGrant,
  PartnerGateway,
  PartnerPlatform,
  PartnerProduct,
  PartnerStoreInfo,
  PermissionLevel,
  PinduoduoAuthorisation,
  UnionAuthorisation,
} from '../../platform/partners/types';

/**
 * An in-memory partner platform that keeps the gateway's contract: an authorisation code is
 * good once, a refresh rotates both tokens (the old refresh token is dead after), a revoked
 * store's tokens are refused for good (PartnerAuthorisationRevoked), lifetimes in seconds.
 * `outage` makes every Youzan token call fail as retryable (PlatformUnavailable).
 */
export interface FakePartnerGateway extends PartnerGateway {
  stores: Map<string, PartnerStoreInfo>;
  unionAnswers: Map<string, UnionAuthorisation>;
  jdAnswers: Map<string, JdUnionAuthorisation>;
  pinduoduoAnswers: Map<string, PinduoduoAuthorisation>;
  lifetimes: { accessSeconds: number; refreshSeconds: number };
  outage: boolean;
  /** Each store's catalogue, by `storeKey`. */
  products: Map<string, PartnerProduct[]>;
  /** The merchant consents on Youzan's page: the code the callback carries. */
  consent(storeId: string, level: PermissionLevel): string;
  revoke(storeId: string): void;
  /** Every token and code ever issued, so tests can look for them where they must not be. */
  issued: string[];
  calls: { exchange: number; refresh: number };
}

export const storeKey = (platform: PartnerPlatform, storeId: string): string => `${platform}:${storeId}`;

export function createFakePartnerGateway(): FakePartnerGateway {
  const codes = new Map<string, { storeId: string; level: PermissionLevel; used: boolean }>();
  const refreshTokens = new Map<string, { storeId: string; level: PermissionLevel; live: boolean }>();
  const revoked = new Set<string>();
  const token = (prefix: string) => `${prefix}-${randomBytes(16).toString('hex')}`;
  const unavailable = () => ApplicationFailure.create({ message: 'youzan is unavailable', type: ErrorType.PlatformUnavailable });
  const revokedFailure = (what: string) => ApplicationFailure.create({ message: `youzan refused the ${what}`, type: ErrorType.PartnerAuthorisationRevoked, nonRetryable: true });

  const grant = (storeId: string, level: PermissionLevel): OAuthGrant => {
    const accessToken = token('access');
    const refreshToken = token('refresh');
    refreshTokens.set(refreshToken, { storeId, level, live: true });
    fake.issued.push(accessToken, refreshToken);
    return { storeId, accessToken, refreshToken, accessExpiresInSeconds: fake.lifetimes.accessSeconds, refreshExpiresInSeconds: fake.lifetimes.refreshSeconds, level };
  };

  const fake: FakePartnerGateway = {
    stores: new Map(),
    products: new Map(),
    unionAnswers: new Map(),
    jdAnswers: new Map(),
    pinduoduoAnswers: new Map(),
    lifetimes: { accessSeconds: 7 * 86_400, refreshSeconds: 28 * 86_400 },
    outage: false,
    issued: [],
    calls: { exchange: 0, refresh: 0 },
    consent(storeId, level) {
      const code = token('code');
      codes.set(code, { storeId, level, used: false });
      fake.issued.push(code);
      revoked.delete(storeId);
      return code;
    },
    revoke(storeId) {
      revoked.add(storeId);
    },
    async storeInfo(platform, storeId) {
      return fake.stores.get(storeKey(platform, storeId)) ?? null;
    },
    async taobaoUnionAuthorisation(platform, storeId, pid) {
      return fake.unionAnswers.get(storeKey(platform, storeId)) ?? { pid, status: 'not_authorised', account: null, positionType: null };
    },
    youzanAuthorizeUrl({ state, level, redirectUri }) {
      return `https://open.youzan.example/oauth/authorize?state=${encodeURIComponent(state)}&scope=${level}&redirect_uri=${encodeURIComponent(redirectUri)}`;
    },
    async youzanExchangeCode(code) {
      fake.calls.exchange += 1;
      if (fake.outage) throw unavailable();
      const found = codes.get(code);
      if (!found || found.used) throw revokedFailure('authorisation code');
      found.used = true;
      return grant(found.storeId, found.level);
    },
    async youzanRefresh(refreshToken) {
      fake.calls.refresh += 1;
      if (fake.outage) throw unavailable();
      const found = refreshTokens.get(refreshToken);
      if (!found || !found.live || revoked.has(found.storeId)) throw revokedFailure('refresh token');
      found.live = false;
      return grant(found.storeId, found.level);
    },
    async jdUnionAuthorisation(storeId, unionId) {
      return fake.jdAnswers.get(storeId) ?? { unionId, status: 'not_authorised', selfOperated: false };
    },
    async pinduoduoAuthorisation(storeId, pid) {
      return fake.pinduoduoAnswers.get(storeId) ?? { pid, status: 'not_authorised', commissionOnly: false };
    },
    async listProducts(platform, storeId, { cursor, limit }) {
      if (fake.outage) throw unavailable();
      const all = [...(fake.products.get(storeKey(platform, storeId)) ?? [])].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
      const from = cursor === null ? 0 : all.findIndex((p) => p.productId > cursor);
      const page = from < 0 ? [] : all.slice(from, from + limit);
      const last = page.at(-1);
      return { products: page, nextCursor: last && all.at(-1) !== last ? last.productId : null };
    },
  };
  return fake;
}
