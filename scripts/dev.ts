import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { startTracing } from '../config/tracing';
import { stopOnSignals } from '../config/shutdown';
import { createApp, securityEventsFor } from '../api/app';
import { listen, type ListeningServer } from '../api/listen';
import { createDb, describeDbTarget, type Db } from '../db/connection';
import { migrateAsOwner } from '../db/roles';
import { sandboxOptionsFrom, startSandboxPlatform, type RunningSandbox } from '../platform/sandbox';
import { piiVaultFrom } from '../security/pii';
import { activityDepsFrom, calendarAtStart } from '../worker/dependencies';
import { ensureSchedules } from '../worker/schedules';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { installTemporalRuntime } from '../worker/runtime';
import { createMerchantOpsWorker } from '../worker/worker';
import { startReadOnlyUi, type ReadOnlyUi } from './read-only-ui';
import { checkOwnPorts, pidFileOf } from './support/stale-dev-server';
import { startTemporalDevServer, type DevServer } from './temporal-dev-server';

const ROOT = path.resolve(__dirname, '..');

/** A free loopback port, for the dev server's own UI behind the read-only proxy. */
async function freeLoopbackPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * `npm start`: the whole platform in one command, on embedded defaults. A Temporal dev
 * server persisted to data/temporal.db (Web UI on :8233), PGlite under data/pglite
 * (or DATABASE_URL), the sandbox platform (its state in data/sandbox-state.json), the worker
 * and the API. Ctrl-C or SIGTERM stops it all within SHUTDOWN_GRACE_MS and a few seconds; the
 * next start resumes every process that was in flight.
 */
async function main(): Promise<void> {
  const config = loadConfig({
    LOG_FORMAT: process.stdout.isTTY ? 'pretty' : 'json',
    PLATFORM_BASE_URL: `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 3100}`,
    PARTNER_BASE_URL: `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 3100}/partners`,
    SANDBOX_CALLBACK_URL: `http://127.0.0.1:${process.env.API_PORT ?? 3000}/v1/platform/payment-callbacks`,
    YOUZAN_REDIRECT_URI: `http://127.0.0.1:${process.env.API_PORT ?? 3000}/v1/bindings/oauth/youzan/callback`,
    ...process.env,
  });
  const dataDir = path.resolve(ROOT, config.DEV_DATA_DIR);
  const sandboxStateFile = config.SANDBOX_STATE_FILE ?? path.join(dataDir, 'sandbox-state.json');
  const log = createLogger(config, 'dev');
  // This script orchestrates shutdown itself, so the SDK must not react to signals on its own.
  installTemporalRuntime(config, createLogger(config, 'worker'), undefined, []);
  const tracing = startTracing(config, 'dev');

  // The parts, as far as they have started; the stop takes whatever is there.
  let devServer: DevServer | undefined;
  let ui: ReadOnlyUi | undefined;
  let connection: Connection | undefined;
  let db: Db | undefined;
  let sandbox: RunningSandbox | undefined;
  let nativeConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let api: ListeningServer | undefined;
  let securityEvents: ReturnType<typeof securityEventsFor> | undefined;
  // While stopping, the server's complaints about its own closing connections are noise.
  let quietTemporal = false;

  const step = async (part: string, stop: () => Promise<unknown> | undefined) => {
    await Promise.resolve(stop()).catch((err: unknown) => log.error({ err, part }, 'failed to stop cleanly'));
  };
  const stopStack = async () => {
    const until = Date.now() + config.SHUTDOWN_GRACE_MS;
    const left = () => Math.max(0, until - Date.now());
    // 1. No new work. The API stops taking connections and answers the requests it has; the
    //    worker stops polling and gives its running activities the grace time to finish.
    await Promise.all([
      step('api', () => api?.close(left())),
      step('worker', () => {
        if (worker?.getState() === 'RUNNING') worker.shutdown();
        return running;
      }),
    ]);
    quietTemporal = true;
    // 2. What they used: the platform's answers to requests in flight, then the connections.
    await step('sandbox', () => sandbox?.close(Math.min(left(), 2_000)));
    await step('security events', () => securityEvents?.stop());
    await step('worker connection', () => nativeConnection?.close());
    await step('temporal client', () => connection?.close());
    await step('database', () => db?.destroy());
    await step('temporal web ui', () => ui?.close());
    await step('tracing', () => tracing.shutdown());
    // 3. The dev server last: everything in flight is saved in its file for the next start.
    await step('temporal', () => devServer?.stop());
  };
  const coordinator = stopOnSignals({ log, graceMs: config.SHUTDOWN_GRACE_MS, stop: stopStack, onDeadline: () => devServer?.kill() });

  try {
    const cliPath = config.TEMPORAL_CLI_PATH ?? path.join(ROOT, '.tools/venv/bin/temporal');
    const temporalLog = createLogger(config, 'temporal');
    const dbFile = path.join(dataDir, 'temporal.db');
    const uiHost = config.TEMPORAL_ADDRESS.split(':')[0] ?? '127.0.0.1';
    // Our own parts' ports first, so a used one stops the start before anything runs; the
    // Temporal port is the dev server's check (a killed run's server there is stopped).
    await checkOwnPorts({
      pidFile: pidFileOf(dbFile),
      ports: [
        { setting: 'TEMPORAL_UI_PORT', part: 'the Temporal Web UI', host: uiHost, port: config.TEMPORAL_UI_PORT },
        { setting: 'SANDBOX_PORT', part: 'the sandbox platform', host: config.SANDBOX_HOST, port: config.SANDBOX_PORT },
        { setting: 'API_PORT', part: 'the API', host: config.API_HOST, port: config.API_PORT },
      ],
    });
    devServer = await startTemporalDevServer({
      cliPath,
      dbFile,
      address: config.TEMPORAL_ADDRESS,
      uiPort: await freeLoopbackPort(),
      namespace: config.TEMPORAL_NAMESPACE,
      onOutput: (line) => {
        if (!quietTemporal) temporalLog.info(line);
      },
      warn: (message, details) => log.warn(details, message),
    });
    if (coordinator.stopping) return;
    // Read only, as in compose: changes go through the audited API (scripts/read-only-ui.ts).
    ui = await startReadOnlyUi({
      upstream: `http://127.0.0.1:${devServer.uiPort}`,
      host: uiHost,
      port: config.TEMPORAL_UI_PORT,
    });
    if (coordinator.stopping) return;
    log.info({ address: config.TEMPORAL_ADDRESS, ui: `http://localhost:${config.TEMPORAL_UI_PORT}` }, 'temporal dev server ready');

    connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);

    const target = { databaseUrl: config.DATABASE_URL, pgliteDir: path.resolve(ROOT, config.PGLITE_DIR) };
    db = createDb(target);
    const applied = await migrateAsOwner(db, { databaseUrl: config.DATABASE_URL, migrationDatabaseUrl: config.MIGRATION_DATABASE_URL });
    log.info({ db: describeDbTarget(target), applied }, 'database ready');
    if (coordinator.stopping) return;

    sandbox = await startSandboxPlatform(sandboxOptionsFrom({ ...config, SANDBOX_STATE_FILE: sandboxStateFile }));
    log.info({ url: sandbox.url, stateFile: sandboxStateFile }, 'sandbox platform ready');

    const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    await ensureSchedules(temporal, config.TEMPORAL_TASK_QUEUE);
    const deps = activityDepsFrom(config, db, temporal);
    const coverage = await calendarAtStart(deps.calendar, new Date());
    if (coverage.warning) log.warn(coverage, 'official working-day data ends within 60 days: later deadlines are provisional');
    if (coordinator.stopping) return;

    nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    worker = await createMerchantOpsWorker({
      connection: nativeConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps,
      tracing,
      shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    });
    if (coordinator.stopping) return;
    running = worker.run();
    // A worker that stops by itself (not asked to) takes the stack down with it.
    running.then(
      () => {
        if (!coordinator.stopping) void coordinator.stop('worker stopped').then(() => process.exit());
      },
      (err: unknown) => {
        log.error({ err }, 'the worker failed');
        process.exitCode = 1;
        if (!coordinator.stopping) void coordinator.stop('worker failed').then(() => process.exit());
      },
    );
    log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');

    const apiLogger = createLogger(config, 'api');
    const events = securityEventsFor(config, db, apiLogger);
    securityEvents = events;
    const app = createApp({ config, db, temporal, logger: apiLogger, vault: piiVaultFrom(config), securityEvents: events });
    api = await listen(app, config.API_HOST, config.API_PORT);
    log.info(
      {
        api: `http://localhost:${config.API_PORT}`,
        docs: `http://localhost:${config.API_PORT}/docs`,
        temporalUi: `http://localhost:${config.TEMPORAL_UI_PORT}`,
        token: 'npm run token -- --role ops',
      },
      'merchant-ops is up; Ctrl-C stops it',
    );
  } catch (err) {
    if (coordinator.stopping) return;
    log.error({ err }, 'the dev stack failed');
    process.exitCode = 1;
    await coordinator.stop('failure');
    process.exit();
  }
}

void main();
