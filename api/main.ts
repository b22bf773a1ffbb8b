import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { startTracing } from '../config/tracing';
import { stopOnSignals } from '../config/shutdown';
import { temporalConnectionOptions } from '../config/temporal';
import { createDb, describeDbTarget } from '../db/connection';
import { piiVaultFrom } from '../security/pii';
import { createApp, securityEventsFor } from './app';
import { listen } from './listen';
import { createHttpMetrics, serveMetricsApart } from './metrics';

/** Production entry point: the API alone, against TEMPORAL_ADDRESS and DATABASE_URL. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const tracing = startTracing(config, 'api');
  const target = { databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  const db = createDb(target);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  // Workflow starts and updates carry the request's trace into the worker.
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  const securityEvents = securityEventsFor(config, db, logger);
  const metrics = createHttpMetrics();
  const app = createApp({ config, db, temporal, logger, vault: piiVaultFrom(config), securityEvents, metrics });
  const server = await listen(app, config.API_HOST, config.API_PORT);
  logger.info({ url: `http://${config.API_HOST}:${config.API_PORT}`, db: describeDbTarget(target) }, 'api listening');
  const metricsServer =
    config.METRICS_ENABLED && config.API_METRICS_PORT !== undefined
      ? await serveMetricsApart(metrics, config.METRICS_HOST, config.API_METRICS_PORT)
      : undefined;
  if (metricsServer) logger.info({ url: `http://${config.METRICS_HOST}:${metricsServer.port}/metrics` }, 'api metrics listening');

  // On SIGTERM: no new connections; requests in flight get SHUTDOWN_GRACE_MS to be answered.
  stopOnSignals({
    log: logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    stop: async () => {
      await server.close(config.SHUTDOWN_GRACE_MS);
      await securityEvents.stop();
      await connection.close();
      metricsServer?.close();
      await db.destroy();
      await tracing.shutdown();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
