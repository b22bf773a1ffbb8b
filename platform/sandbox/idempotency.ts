import { createHash } from 'node:crypto';
import type { Request, Router } from 'express';
import type { z } from 'zod';
import { canonicalJson } from '../../domain/canonical-json';
import { invalidRequest } from './validation';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
const MAX_KEY_LENGTH = 255;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotencyEntry {
  /** Digest of method, path and canonical body of the first request with this key (or, in older state files, that text itself). */
  fingerprint: string;
  /** Pending while the first request runs, so a concurrent twin waits and replays it. */
  response: Promise<StoredResponse>;
  /** The response once it is known: what the sandbox's store keeps across restarts. */
  settled?: StoredResponse;
}

export type IdempotencyStore = Map<string, IdempotencyEntry>;

export interface IdempotentRouteSpec<S extends z.ZodType> {
  store: IdempotencyStore;
  schema: S;
  method?: 'post' | 'put' | 'patch' | 'delete';
  /** Runs at most once per key; what it returns is stored and replayed for that key. */
  handle(input: z.output<S>, req: Request): StoredResponse | Promise<StoredResponse>;
}

/**
 * A mutating route with the platform's idempotency contract: the key is required, a
 * repeat with the same body replays the first response without a second side effect,
 * and a repeat with a different body is refused (422). Bodies that fail the schema are
 * not stored, because nothing was done for them.
 */
export function idempotentRoute<S extends z.ZodType>(router: Router, path: string, spec: IdempotentRouteSpec<S>): void {
  router[spec.method ?? 'post'](path, async (req, res) => {
    const key = req.get(IDEMPOTENCY_KEY_HEADER);
    if (!key) {
      res.status(400).json({ error: 'idempotency_key_required' });
      return;
    }
    if (key.length > MAX_KEY_LENGTH) {
      res.status(400).json({ error: 'idempotency_key_too_long', maxLength: MAX_KEY_LENGTH });
      return;
    }

    const body: unknown = req.body ?? null;
    // A digest, not the text: a batch of 200 listings per key would otherwise stay in memory whole.
    const canonical = canonicalJson({ method: req.method, path: req.baseUrl + req.path, body });
    const fingerprint = createHash('sha256').update(canonical).digest('hex');
    const existing = spec.store.get(key);
    if (existing) {
      if (existing.fingerprint !== fingerprint && existing.fingerprint !== canonical) {
        res.status(422).json({ error: 'idempotency_key_reused' });
        return;
      }
      const stored = await existing.response;
      res.set(IDEMPOTENT_REPLAYED_HEADER, 'true').status(stored.status).json(stored.body);
      return;
    }

    const parsed = spec.schema.safeParse(body);
    if (!parsed.success) {
      res.status(400).json(invalidRequest(parsed.error));
      return;
    }
    // Stored before the handler runs (it starts on the next microtask), so no twin can slip in.
    const response = Promise.resolve().then(async () => snapshot(await spec.handle(parsed.data, req)));
    const entry: IdempotencyEntry = { fingerprint, response };
    spec.store.set(key, entry);
    // Registered before the await below, so the entry is settled before the answer is written.
    response.then((stored) => void (entry.settled = stored), () => undefined);
    try {
      const stored = await response;
      res.status(stored.status).json(stored.body);
    } catch (err) {
      // Nothing was stored, so a retry with this key may run the handler again.
      spec.store.delete(key);
      throw err;
    }
  });
}

/** A `:name` segment of the route's path; handlers get an untyped Request, so this checks it is there. */
export function routeParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string') throw new Error(`route has no :${name} parameter`);
  return value;
}

// A copy, so later changes to live state never alter what a replay returns.
function snapshot(response: StoredResponse): StoredResponse {
  return { status: response.status, body: structuredClone(response.body) };
}
