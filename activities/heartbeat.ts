import { Context } from '@temporalio/activity';

/**
 * How often a long activity tells the server it is alive, whatever its progress. The
 * workflows' heartbeat timeouts (HEARTBEAT_TIMEOUT in workflows/activity-heartbeat.ts) are a
 * few of these: a killed worker's attempt is then retried within seconds, while one slow step
 * (a large range of statements, a platform call waiting out its timeout) never looks dead.
 */
export const HEARTBEAT_INTERVAL_MS = 5_000;

export interface Heartbeat<D> {
  /** What a retried attempt resumes from (`info.heartbeatDetails`), as the last progress left it. */
  readonly resumed: D | undefined;
  /** Records progress and sends it; the ticker repeats the last progress, never a half-updated one. */
  progress(details: D): void;
  /** Stops the ticker; call in `finally`. */
  stop(): void;
}

/** Heartbeats the activity's last progress every `everyMs` until stopped. */
export function keepHeartbeating<D>(everyMs: number = HEARTBEAT_INTERVAL_MS): Heartbeat<D> {
  const context = Context.current();
  let last = context.info.heartbeatDetails as D | undefined;
  const ticker = setInterval(() => context.heartbeat(last), everyMs);
  ticker.unref();
  return {
    resumed: last,
    progress(details) {
      last = structuredClone(details);
      context.heartbeat(last);
    },
    stop: () => clearInterval(ticker),
  };
}
