import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal';
import { createLogger } from '../config/logger';
import { createDb, describeDbTarget } from '../db/connection';
import { replanProvisional } from '../activities/calendar-replan';
import { activityDepsFrom, calendarAtStart } from './dependencies';
import { ensureSchedules } from './schedules';
import { ensureSearchAttributes } from './search-attributes';
import { createMerchantOpsWorker } from './worker';

/** Production entry point: one worker process against TEMPORAL_ADDRESS and DATABASE_URL. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  const target = { databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  const db = createDb(target);

  const options = temporalConnectionOptions(config);
  const clientConnection = await Connection.connect(options);
  await ensureSearchAttributes(clientConnection, config.TEMPORAL_NAMESPACE);
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
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
  });
  logger.info(
    { temporal: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, db: describeDbTarget(target) },
    'worker started',
  );
  // Worker.run installs SIGINT/SIGTERM handlers and drains in-flight tasks on shutdown.
  await worker.run();
  await connection.close();
  await clientConnection.close();
  await db.destroy();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
