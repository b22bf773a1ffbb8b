import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal';
import { createLogger } from '../config/logger';
import { startTracing } from '../config/tracing';
import { createOperationsGauges } from '../db/repositories/operations-gauges';
import { stopOnSignals } from '../config/shutdown';
import { createDb, describeDbTarget } from '../db/connection';
import { replanProvisional } from '../activities/calendar-replan';
import { activityDepsFrom, calendarAtStart } from './dependencies';
import { ensureSchedules } from './schedules';
import { ensureSearchAttributes } from './search-attributes';
import { markAliveWhileRunning } from './liveness';
import { createBusinessGauges } from './business-gauges';
import { serveWorkerMetrics, type WorkerMetricsServer } from './metrics-server';
import { freeLoopbackPort, installTemporalRuntime } from './runtime';
import { createMerchantOpsWorker } from './worker';

/** Production entry point: one worker process against TEMPORAL_ADDRESS and DATABASE_URL. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  // Before any connection: the runtime's logger and metrics exporter are set once per process.
  // Signals are ours to handle (no SDK shutdown signals): the SDK's handler removes itself after
  // the first signal, so a second SIGTERM (a supervisor repeating it, npm forwarding it) would
  // kill the drain half-way.
  const coreMetricsPort = config.METRICS_ENABLED ? await freeLoopbackPort() : undefined;
  installTemporalRuntime(config, logger, coreMetricsPort, []);
  const tracing = startTracing(config, 'worker');
  const target = { databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  const db = createDb(target);

  const options = temporalConnectionOptions(config);
  const clientConnection = await Connection.connect(options);
  await ensureSearchAttributes(clientConnection, config.TEMPORAL_NAMESPACE);
  // Processes an activity starts (a ban's closure) carry the activity's trace.
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  await ensureSchedules(client, config.TEMPORAL_TASK_QUEUE);

  const deps = activityDepsFrom(config, db, client);
  const coverage = await calendarAtStart(deps.calendar, new Date());
  if (coverage.warning) {
    logger.warn(coverage, 'official working-day data ends within 60 days: deadlines after it are provisional until next year is loaded (PUT /v1/admin/calendar/:year)');
  } else logger.info(coverage, 'working-day calendar coverage');
  // A year added through CALENDAR_EXTRA_PATH takes effect at this start: re-plan what it covers.
  const replanned = await replanProvisional({ db, temporal: client, calendar: deps.calendar });
  if (replanned.length > 0) logger.info({ processes: replanned.length }, 'provisional deadlines re-planned on official calendar data');

  const connection = await NativeConnection.connect(options);
  const worker = await createMerchantOpsWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps,
    workflowBundlePath: config.WORKFLOW_BUNDLE_PATH,
    tracing,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
  });
  const stopMarking = config.WORKER_HEALTH_FILE ? markAliveWhileRunning(worker, config.WORKER_HEALTH_FILE) : () => undefined;
  let metrics: WorkerMetricsServer | undefined;
  if (coreMetricsPort !== undefined) {
    metrics = await serveWorkerMetrics({
      host: config.METRICS_HOST,
      port: config.WORKER_METRICS_PORT,
      coreMetricsUrl: `http://127.0.0.1:${coreMetricsPort}/metrics`,
      gauges: createBusinessGauges({
        gauges: createOperationsGauges(db),
        calendar: deps.calendar,
        timeoutMs: config.WORKER_METRICS_QUERY_TIMEOUT_MS,
        logger,
      }),
      logger,
    });
    logger.info({ url: `http://${config.METRICS_HOST}:${metrics.port}/metrics` }, 'worker metrics listening');
  }
  logger.info(
    { temporal: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, db: describeDbTarget(target) },
    'worker started',
  );
  const running = worker.run().finally(stopMarking);
  // On SIGTERM: no new tasks; activities in flight get SHUTDOWN_GRACE_MS to finish, then are cancelled.
  stopOnSignals({
    log: logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err: unknown) => logger.error({ err }, 'worker did not drain cleanly'));
      await metrics?.close();
      await connection.close();
      await clientConnection.close();
      await db.destroy();
      await tracing.shutdown();
    },
  });
  await running;
}

main().catch((err: unknown) => {
  // One JSON line like every other (no logger may exist yet: the configuration may be what
  // failed), then out: the Temporal runtime, once installed, keeps the process alive.
  const line = JSON.stringify({
    level: 50,
    time: new Date().toISOString(),
    component: 'worker',
    msg: 'worker failed',
    err: { message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined },
  });
  process.stdout.write(`${line}\n`, () => process.exit(1));
});
