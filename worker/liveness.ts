import fs from 'node:fs';
import type { Worker } from '@temporalio/worker';

/** How often a running worker marks itself alive, and how old a mark may be and still count. */
export const LIVENESS_INTERVAL_MS = 10_000;
export const LIVENESS_MAX_AGE_MS = 45_000;

/**
 * Marks the worker alive in a file while it runs (state RUNNING), so a healthcheck can tell a
 * polling worker from a process that is up but whose worker stopped or failed. A file, not a
 * port: nothing to publish, nothing to secure. Returns the stop function.
 */
export function markAliveWhileRunning(worker: Pick<Worker, 'getState'>, file: string, intervalMs = LIVENESS_INTERVAL_MS): () => void {
  const mark = () => {
    if (worker.getState() === 'RUNNING') fs.writeFileSync(file, new Date().toISOString());
  };
  mark();
  const timer = setInterval(mark, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    fs.rmSync(file, { force: true });
  };
}

/** Whether the mark in `file` is fresh: the worker polled within `maxAgeMs`. */
export function isAlive(file: string, now = Date.now(), maxAgeMs = LIVENESS_MAX_AGE_MS): boolean {
  try {
    return now - fs.statSync(file).mtimeMs <= maxAgeMs;
  } catch {
    return false;
  }
}
