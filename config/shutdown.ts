import type { Server } from 'node:http';
import type { Logger } from 'pino';

export const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

// After the grace time, this long again for closing connections and files; then the process exits anyway.
const CLEANUP_MS = 4_000;

export interface StopOnSignalOptions {
  log: Logger;
  graceMs: number;
  /** Stops every part, in order; resolves when they are stopped. */
  stop: (reason: string) => Promise<void>;
  /** Last resort when the stop overruns its deadline (e.g. SIGKILL a child server), right before exit(1). */
  onDeadline?: () => void;
}

export interface StopCoordinator {
  /** Starts the stop (once; later calls return the same promise). */
  stop(reason: string): Promise<void>;
  readonly stopping: boolean;
}

/**
 * One stop per process, whatever signals arrive. A terminal's Ctrl-C reaches every process of
 * the foreground group, and npm or a supervisor may forward the same signal again: a second
 * signal must neither start a second stop nor, unhandled, kill the process half-way through the
 * first (which is what `process.once` handlers allowed). The stop has a deadline: grace time
 * plus a little for cleanup, then the process exits with code 1.
 */
export function stopOnSignals(o: StopOnSignalOptions): StopCoordinator {
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    if (stopping) {
      o.log.info({ reason }, 'already stopping');
      return stopping;
    }
    o.log.info({ reason, graceMs: o.graceMs }, 'stopping');
    const deadline = setTimeout(() => {
      o.log.error({ afterMs: o.graceMs + CLEANUP_MS }, 'stop overran its deadline: exiting anyway');
      o.onDeadline?.();
      process.exit(1);
    }, o.graceMs + CLEANUP_MS);
    deadline.unref();
    stopping = o.stop(reason).then(
      () => {
        clearTimeout(deadline);
        o.log.info('stopped');
      },
      (err: unknown) => {
        clearTimeout(deadline);
        o.log.error({ err }, 'stopped with errors');
        process.exitCode = 1;
      },
    );
    return stopping;
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => void stop(signal).then(() => process.exit()));
  }
  return {
    stop,
    get stopping() {
      return stopping !== undefined;
    },
  };
}

/**
 * server.close alone waits for keep-alive sockets to time out, and closeAllConnections cuts
 * requests in flight (a reset the caller cannot tell from a crash). So: no new connections,
 * idle sockets closed now and each busy one as soon as its answer is written, the rest cut at
 * the deadline.
 */
export function drain(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise<void>((done, fail) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((err) => {
      clearInterval(sweep);
      clearTimeout(deadline);
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') fail(err);
      else done();
    });
    server.closeIdleConnections();
  });
}
