import net from 'node:net';
import type { Logger as PinoLogger } from 'pino';
import { Runtime, makeTelemetryFilterString, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';
import type { AppConfig } from '../config/config';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger, written through our pino logger: the worker's own lines, the
 * workflow and activity loggers (`log` from @temporalio/workflow and @temporalio/activity, with
 * their workflow id, run id and activity attributes) and the Rust core's lines, forwarded, all
 * come out as one JSON stream with the same redaction and trace fields.
 */
export function temporalLoggerFor(logger: PinoLogger): Logger {
  const sdk = logger.child({ source: 'temporal' });
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => sdk[PINO_LEVEL[level]]({ ...meta }, message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** A loopback port free right now, for the core's own metrics listener. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Installs the process's Temporal runtime (once, before any connection): its logs forwarded
 * to `logger` instead of printed as plain text by the core, and, when `coreMetricsPort` is
 * given, the SDK's runtime metrics exported on 127.0.0.1:<port> for worker/metrics-server.ts
 * to serve with the business gauges.
 */
export function installTemporalRuntime(
  config: Pick<AppConfig, 'LOG_LEVEL'>,
  logger: PinoLogger,
  coreMetricsPort?: number,
  // scripts/dev.ts stops the worker itself: there the SDK must not take the signals.
  shutdownSignals?: NodeJS.Signals[],
): Runtime {
  const verbose = config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace';
  return Runtime.install({
    logger: temporalLoggerFor(logger),
    ...(shutdownSignals ? { shutdownSignals } : {}),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: verbose ? 'DEBUG' : 'WARN', other: 'ERROR' }), forward: {} },
      ...(coreMetricsPort === undefined ? {} : { metrics: { prometheus: { bindAddress: `127.0.0.1:${coreMetricsPort}` } } }),
    },
  });
}
