import type { RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import type { SecurityEventKind, SecurityEvents } from '../db/repositories/security-events';
import { HttpError } from './errors';

const REFUSALS: Partial<Record<number, SecurityEventKind>> = { 401: 'unauthenticated', 403: 'forbidden', 429: 'rate_limited' };

/**
 * Counts refusals by client address once the exchange is over ('close' fires whether the
 * answer was delivered or the client left), for every route under the prefix. Counted, not
 * audited: an anonymous flood must not add a row per request.
 */
export function countRefusals(events: SecurityEvents): RequestHandler {
  return (req, res, next) => {
    res.once('close', () => {
      const kind = res.headersSent ? REFUSALS[res.statusCode] : undefined;
      if (kind) events.count(req.ip ?? 'unknown', kind);
    });
    next();
  };
}

/**
 * Every request of one client address, counted before its token is checked or its body read:
 * refusing a flood costs a counter, not a signature check, a body parse or a database write.
 */
export function limitByAddress(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // IPv6 clients are grouped by /56 network, so one host cannot rotate through its addresses.
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? ''),
    handler: (_req, _res, next) => next(new HttpError(429, 'rate_limited', 'too many requests from this address; slow down and retry')),
  });
}
