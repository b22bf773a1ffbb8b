import { SignJWT } from 'jose';

export interface TokenClaims {
  sub: string;
  role: 'ops' | 'reviewer' | 'finance' | 'admin' | 'merchant';
  merchantId?: string;
}

/** Signs an HS256 token our API accepts; used by `npm run token` and the tests. */
export async function signToken(
  settings: { secret: string; issuer: string; audience: string },
  claims: TokenClaims,
  expiresIn: string | number = '8h',
): Promise<string> {
  return new SignJWT({ role: claims.role, ...(claims.merchantId ? { merchantId: claims.merchantId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(settings.secret));
}
