import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { canonicalJson } from '../domain/canonical-json';
import type { IdempotencyKeyRepository, KeyRef } from '../db/repositories/idempotency-keys';
import { badRequest, HttpError } from './errors';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Set on an answer that is the stored first answer of an earlier request under the key. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const KEY_RULE = '1 to 128 printable ASCII characters, no spaces (a UUID is a good key)';
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7E]{1,128}$/, KEY_RULE).describe(KEY_RULE);

/** The header as OpenAPI shows it on every route that accepts it. */
export const idempotencyHeaders = z.object({
  'idempotency-key': idempotencyKeySchema
    .optional()
    .describe(
      'Makes the request safe to retry: the same key with the same request answers the first answer again (header Idempotent-Replayed: true); ' +
        'the same key with another request is a 409 idempotency_key_reused; while the first is still running, a 409 idempotency_key_in_progress (retry). ' +
        `Keys are per caller. An answer that says to retry (5xx, 429, a 409 with retryable: true, a 202 still running) is not kept. ${KEY_RULE}`,
    ),
});

/** SHA-256 of the canonical JSON of the route and body: what "the same request" means. */
export function requestFingerprint(route: string, body: unknown): string {
  return createHash('sha256').update(canonicalJson({ route, body: body ?? {} })).digest('hex');
}

/**
 * Whether an answer is final, so a retry must get it again: not a server failure, a rate
 * limit, a refusal that says to retry (payment_pending), or an update still running (202
 * `accepted`, whose outcome a retry should fetch).
 */
export function isFinalAnswer(statusCode: number, body: unknown): boolean {
  const b = (body ?? {}) as { retryable?: unknown; status?: unknown };
  if (statusCode >= 500 || statusCode === 429) return false;
  if (b.retryable === true) return false;
  return !(statusCode === 202 && b.status === 'accepted');
}

export interface IdempotencyOptions {
  keys: IdempotencyKeyRepository;
  logger: Logger;
  /** After this long without an answer the claim belonged to a process that died; the same request may take it over. */
  abandonedAfterMs: number;
}

/**
 * The Idempotency-Key of a route that creates or moves money. Without the header the route
 * runs as always. With it, the key is claimed for (caller, key) before the work starts;
 * the first final answer is stored and sent, and a repeat of the same request gets it back
 * (and is audited as a replay); another request under the key, or one while the first is
 * still running, is a 409. Mounted after the role check and the rate limit.
 */
export function idempotent({ keys, logger, abandonedAfterMs }: IdempotencyOptions): RequestHandler {
  return async (req, res, next) => {
    const key = req.get(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return next();
    if (!idempotencyKeySchema.safeParse(key).success) {
      return next(badRequest(`the ${IDEMPOTENCY_KEY_HEADER} header is invalid`, [{ path: IDEMPOTENCY_KEY_HEADER, message: KEY_RULE }]));
    }
    // A key belongs to the caller as its token acts: the same person acting for another merchant
    // (or in another role) has other keys, so a replay never skips that merchant's checks.
    const { sub, role, merchantId } = req.principal!;
    const ref: KeyRef = { callerSub: `${role}:${merchantId ?? ''}:${sub}`, key };
    const route = `${req.method} ${req.baseUrl}${req.path}`;
    const claim = await keys.claim(ref, { route, fingerprint: requestFingerprint(route, req.body) }, abandonedAfterMs);

    if (claim.kind === 'mismatch') {
      return next(new HttpError(409, 'idempotency_key_reused', `this ${IDEMPOTENCY_KEY_HEADER} was used for another request; use a new key for a new request`, { retryable: false }));
    }
    if (claim.kind === 'in_progress') {
      res.setHeader('Retry-After', '1');
      return next(new HttpError(409, 'idempotency_key_in_progress', `the first request under this ${IDEMPOTENCY_KEY_HEADER} is still running; retry shortly`, { retryable: true }));
    }
    if (claim.kind === 'replay') {
      const { statusCode, body, audit } = claim.answer;
      res.locals.audit = { ...(audit ?? {}), details: { idempotentReplay: true } };
      res.setHeader(REPLAYED_HEADER, 'true');
      res.status(statusCode).json(body);
      return;
    }

    // Claimed: the answer is kept (or the key released) before it leaves, so a retry that
    // arrives right after it sees the outcome, never a stale "in progress".
    const send = res.json.bind(res) as Response['json'];
    res.json = function (this: Response, body: unknown) {
      const statusCode = res.statusCode;
      const settled = isFinalAnswer(statusCode, body)
        ? keys.complete(ref, { statusCode, body, audit: (res.locals.audit as Record<string, unknown> | undefined) ?? null })
        : keys.release(ref);
      void settled
        .catch(async (err: unknown) => {
          logger.error({ err, requestId: req.id }, 'idempotency key could not be settled; releasing it');
          await keys.release(ref).catch(() => undefined);
        })
        .then(() => {
          try {
            send(body);
          } catch (err) {
            logger.error({ err, requestId: req.id }, 'answer could not be sent');
          }
        });
      return res;
    } as Response['json'];
    next();
  };
}
