import { SignJWT } from 'jose';

export type TokenRole = 'ops' | 'reviewer' | 'finance' | 'admin' | 'merchant';

export interface TokenClaims {
  sub: string;
  role: TokenRole;
  merchantId?: string;
}

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
}

/** The config values that cap a token's lifetime; see config/config.ts. */
export interface TokenLifetimeConfig {
  JWT_MAX_LIFETIME_MERCHANT_SECONDS: number;
  JWT_MAX_LIFETIME_STAFF_SECONDS: number;
  JWT_MAX_LIFETIME_ADMIN_SECONDS: number;
}

/** The longest a token of this role may live, in seconds: admin shortest, merchant longest. */
export function maxTokenLifetimeSeconds(role: TokenRole, config: TokenLifetimeConfig): number {
  if (role === 'admin') return config.JWT_MAX_LIFETIME_ADMIN_SECONDS;
  if (role === 'merchant') return config.JWT_MAX_LIFETIME_MERCHANT_SECONDS;
  return config.JWT_MAX_LIFETIME_STAFF_SECONDS;
}

/**
 * Signs an HS256 token our API accepts; used by `npm run token` and the tests. It carries
 * iat and lives lifetimeSeconds (1 h by default, within every role's default cap).
 */
export async function signToken(settings: TokenSettings, claims: TokenClaims, lifetimeSeconds = 3600): Promise<string> {
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds <= 0) throw new Error(`lifetimeSeconds must be a positive whole number, got ${lifetimeSeconds}`);
  const issuedAt = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: claims.role, ...(claims.merchantId ? { merchantId: claims.merchantId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetimeSeconds)
    .sign(new TextEncoder().encode(settings.secret));
}
