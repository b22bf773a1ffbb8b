import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { createApp, securityEventsFor } from '../api/app';
import { listen } from '../api/listen';
import { createDb, describeDbTarget } from '../db/connection';
import { migrateAsOwner } from '../db/roles';
import { sandboxOptionsFrom, startSandboxPlatform } from '../platform/sandbox';
import { piiVaultFrom } from '../security/pii';
import { activityDepsFrom, calendarAtStart } from '../worker/dependencies';
import { ensureSchedules } from '../worker/schedules';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { createMerchantOpsWorker } from '../worker/worker';
import { startTemporalDevServer } from './temporal-dev-server';

const ROOT = path.resolve(__dirname, '..');

/**
 * `npm start`: the whole platform in one command, on embedded defaults. A Temporal dev
 * server persisted to data/temporal.db (Web UI on :8233), PGlite under data/pglite
 * (or DATABASE_URL), the sandbox platform, the worker and the API. Ctrl-C stops it all;
 * the next start resumes every process that was in flight.
 */
async function main(): Promise<void> {
  const config = loadConfig({
    LOG_FORMAT: process.stdout.isTTY ? 'pretty' : 'json',
    PLATFORM_BASE_URL: `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 3100}`,
    SANDBOX_CALLBACK_URL: `http://127.0.0.1:${process.env.API_PORT ?? 3000}/v1/platform/payment-callbacks`,
    ...process.env,
  });
  const log = createLogger(config, 'dev');
  // This script orchestrates shutdown itself, so the SDK must not react to signals on its own.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const stack: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  let stopping = false;
  // While stopping, the server's complaints about its own closing connections are noise.
  let quietTemporal = false;
  const stopAll = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    quietTemporal = true;
    log.info({ reason }, 'stopping the dev stack');
    for (const part of stack.reverse()) {
      await part.stop().catch((err: unknown) => log.error({ err, part: part.name }, 'failed to stop cleanly'));
    }
    log.info('stopped');
  };
  process.once('SIGINT', () => void stopAll('SIGINT').then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll('SIGTERM').then(() => process.exit(0)));

  try {
    const cliPath = config.TEMPORAL_CLI_PATH ?? path.join(ROOT, '.tools/venv/bin/temporal');
    const temporalLog = createLogger(config, 'temporal');
    const devServer = await startTemporalDevServer({
      cliPath,
      dbFile: path.join(ROOT, 'data/temporal.db'),
      address: config.TEMPORAL_ADDRESS,
      uiPort: config.TEMPORAL_UI_PORT,
      namespace: config.TEMPORAL_NAMESPACE,
      onOutput: (line) => {
        if (!quietTemporal) temporalLog.info(line);
      },
    });
    stack.push({ name: 'temporal', stop: () => devServer.stop() });
    log.info({ address: config.TEMPORAL_ADDRESS, ui: `http://localhost:${config.TEMPORAL_UI_PORT}` }, 'temporal dev server ready');

    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    stack.push({ name: 'temporal client', stop: () => connection.close() });
    await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);

    const target = { databaseUrl: config.DATABASE_URL, pgliteDir: path.resolve(ROOT, config.PGLITE_DIR) };
    const db = createDb(target);
    stack.push({ name: 'database', stop: () => db.destroy() });
    const applied = await migrateAsOwner(db, { databaseUrl: config.DATABASE_URL, migrationDatabaseUrl: config.MIGRATION_DATABASE_URL });
    log.info({ db: describeDbTarget(target), applied }, 'database ready');

    const sandbox = await startSandboxPlatform(sandboxOptionsFrom(config));
    stack.push({ name: 'sandbox', stop: () => sandbox.close() });
    log.info({ url: sandbox.url }, 'sandbox platform ready');

    const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    await ensureSchedules(temporal, config.TEMPORAL_TASK_QUEUE);
    const deps = activityDepsFrom(config, db, temporal);
    const coverage = await calendarAtStart(deps.calendar, new Date());
    if (coverage.warning) log.warn(coverage, 'official working-day data ends within 60 days: later deadlines are provisional');

    const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    stack.push({ name: 'worker connection', stop: () => nativeConnection.close() });
    const worker = await createMerchantOpsWorker({
      connection: nativeConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps,
    });
    const running = worker.run();
    stack.push({ name: 'worker', stop: async () => { worker.shutdown(); await running; } });
    log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');

    const apiLogger = createLogger(config, 'api');
    const securityEvents = securityEventsFor(config, db, apiLogger);
    const app = createApp({ config, db, temporal, logger: apiLogger, vault: piiVaultFrom(config), securityEvents });
    const api = await listen(app, config.API_HOST, config.API_PORT);
    stack.push({ name: 'api', stop: async () => { await api.close(); await securityEvents.stop(); } });
    log.info(
      {
        api: `http://localhost:${config.API_PORT}`,
        docs: `http://localhost:${config.API_PORT}/docs`,
        temporalUi: `http://localhost:${config.TEMPORAL_UI_PORT}`,
        token: 'npm run token -- --role ops',
      },
      'merchant-ops is up; Ctrl-C stops it',
    );
    await running;
  } catch (err) {
    log.error({ err }, 'the dev stack failed');
    await stopAll('failure');
    process.exitCode = 1;
  }
}

void main();
