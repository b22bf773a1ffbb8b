import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { CALLS_PATH, isControlPath } from './control-paths';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './idempotency';
import type { SandboxState } from './state';
import { invalidRequest } from './validation';

/** Mount on the /v1 router before anything that can answer, so 401s and 503s are logged too. */
export function recordCalls(state: SandboxState): RequestHandler {
  return (req, res, next) => {
    if (isControlPath(req.path)) {
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
        body: req.body === undefined ? null : structuredClone(req.body),
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
  router.get(CALLS_PATH, (req, res) => {
    const filter = callFilterSchema.safeParse(req.query);
    if (!filter.success) {
      res.status(400).json(invalidRequest(filter.error));
      return;
    }
    const { path, idempotencyKey } = filter.data;
    const calls = state.calls
      .filter((c) => path === undefined || c.path.startsWith(path))
      .filter((c) => idempotencyKey === undefined || c.idempotencyKey === idempotencyKey)
      // Pushed when answered; listed in order of arrival.
      .sort((a, b) => a.seq - b.seq);
    res.json({ calls });
  });
  router.delete(CALLS_PATH, (_req, res) => {
    state.calls.length = 0;
    res.status(204).end();
  });
  return router;
}
