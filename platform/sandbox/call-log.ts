import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { CALLS_PATH, isControlPath } from './control-paths';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './idempotency';
import type { SandboxState } from './state';
import { queryRoute } from './validation';

export interface CallRecording {
  /** Routes that steer the sandbox rather than stand in for a platform: not logged. */
  isControl: (path: string) => boolean;
  /** What of a request body the log may keep (the partners' tokens, codes and secrets are not). */
  redact: (body: unknown) => unknown;
}

// A listings upsert carries up to 200 listings; a catalogue sync makes thousands of them, so the
// log keeps how many, not the listings (the shop's listings are the record of what was sent).
const V1_RECORDING: CallRecording = { isControl: isControlPath, redact: summariseListings };

function summariseListings(body: unknown): unknown {
  if (!body || typeof body !== 'object' || !('listings' in body) || !Array.isArray(body.listings)) return body;
  return { ...body, listings: `[${body.listings.length} listings]` };
}

/** Mount on a router before anything that can answer, so 401s and 503s are logged too. */
export function recordCalls(state: SandboxState, recording: CallRecording = V1_RECORDING): RequestHandler {
  return (req, res, next) => {
    if (recording.isControl(req.path)) {
      next();
      return;
    }
    const seq = state.nextCallSeq++;
    const at = new Date().toISOString();
    const path = req.baseUrl + req.path;
    // Recorded when the response is written, not on 'finish': a client that timed out
    // never causes 'finish', yet the platform still acted, and the log must show that.
    const end = res.end;
    res.end = function (this: Response, ...args: unknown[]) {
      state.calls.push({
        seq,
        at,
        method: req.method,
        path,
        idempotencyKey: req.get(IDEMPOTENCY_KEY_HEADER) ?? null,
        body: req.body === undefined ? null : recording.redact(structuredClone(req.body)),
        status: res.statusCode,
        replayed: res.get(IDEMPOTENT_REPLAYED_HEADER) === 'true',
      });
      return end.apply(this, args as Parameters<typeof end>);
    } as typeof res.end;
    next();
  };
}

const callFilterSchema = z
  .object({
    /** Prefix of the request path, e.g. `/v1/notifications`. */
    path: z.string().optional(),
    idempotencyKey: z.string().optional(),
  })
  .strict();

export function callLogRouter(state: SandboxState): Router {
  const router = Router();
  queryRoute(router, CALLS_PATH, callFilterSchema, ({ path, idempotencyKey }) => {
    const calls = state.calls
      .filter((c) => path === undefined || c.path.startsWith(path))
      .filter((c) => idempotencyKey === undefined || c.idempotencyKey === idempotencyKey)
      // Pushed when answered; listed in order of arrival.
      .sort((a, b) => a.seq - b.seq);
    return { calls };
  });
  router.delete(CALLS_PATH, (_req, res) => {
    state.calls.length = 0;
    res.status(204).end();
  });
  return router;
}
