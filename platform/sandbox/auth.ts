import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/** `Authorization: Bearer <token>`, as the real platforms' open APIs expect. */
export function requireBearerToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.get('Authorization') ?? '');
    // Digests have equal length, which timingSafeEqual needs, and hide the token's length.
    if (match && timingSafeEqual(digest(match[1]), expected)) {
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: 'unauthorized' });
  };
}

/** Compares a secret in constant time, whatever the lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
