import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SandboxPartners, YouzanCode, YouzanGrant } from '../state';

type Youzan = SandboxPartners['youzan'];

/** The token endpoint's answer (RFC 6749 §5.1, with the refresh token's lifetime beside). */
export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  scope: YouzanGrant['level'];
  store_id: string;
}

/** Codes and tokens are kept by digest only: a state file or a heap dump holds nothing usable. */
export function digestOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function issueCode(youzan: Youzan, code: Omit<YouzanCode, 'expiresAt'>, now: number): string {
  const secret = newSecret();
  youzan.codes.set(digestOf(secret), { ...code, expiresAt: now + youzan.lifetimes.codeSeconds * 1000 });
  return secret;
}

/**
 * A grant for a live code issued to this client and callback (RFC 6749 §4.1.3). A code works
 * once; used again, it ends the grant it gave, as the RFC advises (§4.1.2): someone else has it.
 */
export function exchangeCode(youzan: Youzan, code: string, client: { clientId: string; redirectUri: string }, now: number): TokenAnswer | undefined {
  const key = digestOf(code);
  for (const [used, { expiresAt }] of youzan.usedCodes) if (expiresAt <= now) youzan.usedCodes.delete(used);
  const reused = youzan.usedCodes.get(key);
  if (reused) {
    youzan.usedCodes.delete(key);
    endGrant(youzan, reused.grantId);
    return undefined;
  }
  const consent = youzan.codes.get(key);
  youzan.codes.delete(key);
  if (!consent || consent.expiresAt <= now || consent.clientId !== client.clientId || consent.redirectUri !== client.redirectUri) return undefined;
  const grantId = randomUUID();
  const grant: YouzanGrant = { clientId: consent.clientId, storeId: consent.storeId, level: consent.level };
  youzan.grants.set(grantId, grant);
  youzan.usedCodes.set(key, { grantId, expiresAt: consent.expiresAt });
  return issueTokens(youzan, grantId, grant, now);
}

/** Rotation: a new pair for the grant; the old refresh and access tokens stop working. */
export function rotate(youzan: Youzan, refreshToken: string, clientId: string, now: number): TokenAnswer | undefined {
  const key = digestOf(refreshToken);
  const token = youzan.refreshTokens.get(key);
  const grant = token && youzan.grants.get(token.grantId);
  if (!token || !grant || token.expiresAt <= now || grant.clientId !== clientId) return undefined;
  dropTokens(youzan, token.grantId);
  return issueTokens(youzan, token.grantId, grant, now);
}

/** The merchant cancels the authorisation on Youzan's side: every grant for the store ends. */
export function revokeStore(youzan: Youzan, storeId: string): number {
  let revoked = 0;
  for (const [grantId, grant] of youzan.grants) {
    if (grant.storeId !== storeId) continue;
    endGrant(youzan, grantId);
    revoked += 1;
  }
  return revoked;
}

function endGrant(youzan: Youzan, grantId: string): void {
  dropTokens(youzan, grantId);
  youzan.grants.delete(grantId);
}

export function grantOfAccessToken(youzan: Youzan, accessToken: string, now: number): YouzanGrant | undefined {
  const token = youzan.accessTokens.get(digestOf(accessToken));
  if (!token || token.expiresAt <= now) return undefined;
  return youzan.grants.get(token.grantId);
}

function issueTokens(youzan: Youzan, grantId: string, grant: YouzanGrant, now: number): TokenAnswer {
  const { accessSeconds, refreshSeconds } = youzan.lifetimes;
  const access = newSecret();
  const refresh = newSecret();
  youzan.accessTokens.set(digestOf(access), { grantId, expiresAt: now + accessSeconds * 1000 });
  youzan.refreshTokens.set(digestOf(refresh), { grantId, expiresAt: now + refreshSeconds * 1000 });
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: accessSeconds,
    refresh_token: refresh,
    refresh_expires_in: refreshSeconds,
    scope: grant.level,
    store_id: grant.storeId,
  };
}

function dropTokens(youzan: Youzan, grantId: string): void {
  for (const tokens of [youzan.accessTokens, youzan.refreshTokens]) {
    for (const [key, token] of tokens) if (token.grantId === grantId) tokens.delete(key);
  }
}
