import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { SETTINGS_PATH } from './control-paths';
import type { SandboxSettings } from './state';
import { invalidRequest } from './validation';

// Two minutes: above any client timeout we configure, yet a forgotten setting cannot
// hang a test run for good.
const MAX_LATENCY_MS = 120_000;

export const sandboxSettingsSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS),
    errorRate: z.number().min(0).max(1),
  })
  .strict();

const settingsUpdateSchema = sandboxSettingsSchema.partial();

export function settingsRouter(settings: SandboxSettings): Router {
  const router = Router();
  router.get(SETTINGS_PATH, (_req, res) => {
    res.json(settings);
  });
  router.put(SETTINGS_PATH, (req, res) => {
    const update = settingsUpdateSchema.safeParse(req.body ?? {});
    if (!update.success) {
      res.status(400).json(invalidRequest(update.error));
      return;
    }
    Object.assign(settings, update.data);
    res.json(settings);
  });
  return router;
}

/**
 * Slows every platform response by `latencyMs`, then fails it with 503 at `errorRate`.
 * Runs before any route handler, so an injected failure never has a side effect and a
 * retry is always safe.
 */
export function injectFailures(settings: SandboxSettings, random: () => number): RequestHandler {
  return async (_req, res, next) => {
    if (settings.latencyMs > 0) await sleep(settings.latencyMs);
    if (random() < settings.errorRate) {
      res.status(503).json({ error: 'sandbox_unavailable' });
      return;
    }
    next();
  };
}

function sleep(ms: number): Promise<void> {
  // unref: a request still sleeping must not keep a closed sandbox's process alive.
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
