import { jwtVerify, errors as joseErrors } from 'jose';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { AppConfig } from '../config/config';
import { unstorableTextReason } from '../domain/text';
import { maxTokenLifetimeSeconds, type TokenLifetimeConfig } from '../security/tokens';
import { forbidden, notFound, unauthorized } from './errors';

export const ROLES = ['ops', 'reviewer', 'finance', 'admin', 'merchant'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  role: Role;
  /** Set for the merchant role only: the one merchant this token acts for. */
  merchantId?: string;
}

export interface AuthSettings {
  secret: string;
  issuer: string;
  audience: string;
  /** Caps on exp − iat (and on what is left), by role. */
  lifetimes: TokenLifetimeConfig;
  /** How far in the future an iat may be. */
  clockSkewSeconds: number;
}

/** The settings authenticate() takes, from the one config. */
export function authSettingsFrom(config: AppConfig): AuthSettings {
  return {
    secret: config.JWT_SECRET,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    lifetimes: config,
    clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
  };
}

/** A claim we write into audit rows and process history: text the database can store, or no token. */
const storableClaim = (claim: string) =>
  z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      const reason = unstorableTextReason(value);
      if (reason) ctx.addIssue({ code: 'custom', message: `${claim} ${reason}` });
    });

const claimsSchema = z
  .object({
    sub: storableClaim('sub'),
    role: z.enum(ROLES),
    merchantId: storableClaim('merchantId').optional(),
    iat: z.number(),
    exp: z.number(),
  })
  .refine((c) => c.role !== 'merchant' || c.merchantId, { message: 'a merchant token must name its merchantId' });

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** HS256 only: a token signed with another algorithm (or "none") is refused. */
export const JWT_ALGORITHM = 'HS256';

export function authenticate(settings: AuthSettings): RequestHandler {
  const key = new TextEncoder().encode(settings.secret);
  return async (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    // The scheme name is case-insensitive (RFC 9110, section 11.1).
    const match = /^Bearer +(\S+)$/i.exec(header);
    if (!match) return next(unauthorized('send an Authorization: Bearer <token> header'));
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: [JWT_ALGORITHM],
        issuer: settings.issuer,
        audience: settings.audience,
        requiredClaims: ['exp', 'sub', 'iat'],
      });
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) return next(unauthorized(`token claims are invalid: ${claims.error.issues[0]?.message}`));
      const { iat, exp, ...principal } = claims.data;
      const problem = lifetimeProblem(principal.role, { iat, exp }, settings, Math.floor(Date.now() / 1000));
      if (problem) return next(unauthorized(problem));
      req.principal = principal;
      next();
    } catch (err) {
      next(unauthorized(describeJwtError(err)));
    }
  };
}

/**
 * A token must say when it was issued, not be issued in the future (beyond the clock skew),
 * and live no longer than its role's cap: a leaked 100-year admin token is refused. Both
 * together cap what is left of it (exp − now ≤ cap + skew), so a back-dated iat cannot
 * stretch it either.
 */
export function lifetimeProblem(
  role: Role,
  { iat, exp }: { iat: number; exp: number },
  settings: Pick<AuthSettings, 'lifetimes' | 'clockSkewSeconds'>,
  nowSeconds: number,
): string | undefined {
  const cap = maxTokenLifetimeSeconds(role, settings.lifetimes);
  if (iat > nowSeconds + settings.clockSkewSeconds) return 'token claim "iat" is in the future';
  if (exp - iat > cap) return `token lifetime exceeds the ${cap} s allowed for role ${role}`;
  return undefined;
}

function describeJwtError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${err.claim}" is invalid`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  return 'token is invalid';
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.principal?.role;
    if (!role) return next(unauthorized('not authenticated'));
    if (!roles.includes(role)) return next(forbidden(`role ${role} may not do this; needs one of ${roles.join(', ')}`));
    next();
  };
}

/** A merchant acts on its own merchant only; staff roles on any. */
export function mayActFor(principal: Principal, merchantId: string): boolean {
  return principal.role !== 'merchant' || principal.merchantId === merchantId;
}

/**
 * What a merchant hears about any merchant but itself, whether it exists or not; its own
 * lists never 404, so this one answer cannot tell merchant ids apart.
 */
export const merchantNotFound = (merchantId: string) => notFound(`merchant ${merchantId} does not exist`);

/**
 * For requests that name a merchant without looking anything up (starting its review):
 * a 403 there reveals nothing. A lookup (a shop, a case, a statement) must use mayActFor
 * and answer another merchant's record exactly as a missing one, so ids cannot be probed.
 */
export function assertMayActFor(principal: Principal, merchantId: string): void {
  if (!mayActFor(principal, merchantId)) {
    throw forbidden('a merchant may only act on its own cases and shops');
  }
}

/** Roles that may see personal data in clear (ID numbers, USCC, bank cards). */
export const PII_READERS: readonly Role[] = ['reviewer', 'admin'];
