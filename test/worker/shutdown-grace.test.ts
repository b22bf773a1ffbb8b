import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ORDER_IMPORT_WORKFLOW_TYPE, type OrderImportResult } from '../../workflows/order-import.defs';
import { startOrderFeedStack, stopOrderFeedStack, type OrderFeedStack } from '../support/order-feed-stack';
import { workflowBundle } from '../support/temporal';

const TASK_QUEUE = 'shutdown-grace';
const ORDERS = 40;
const PAGE_SIZE = 4;
// 10 feed pages of 400 ms each at the platform: the import runs for about 4 s, longer than the
// 2 s a worker waits past its grace time (worker/worker.ts): only the grace lets it finish.
const LATENCY_MS = 400;
const GRACE_MS = 8_000;

// The worker process needs a database it can reach: PostgreSQL (CI sets DATABASE_URL), not in-memory PGlite.
const describeWithPostgres = process.env.DATABASE_URL ? describe : describe.skip;

/**
 * The production worker entry (worker/main.ts) in a process of its own, sent SIGTERM as a
 * supervisor or `npm start`'s Ctrl-C would while an activity is half-way: the activity must run
 * to its end within SHUTDOWN_GRACE_MS and its result reach the server, and only then the
 * process exits.
 */
describeWithPostgres('a worker asked to stop lets the activity in flight finish (SHUTDOWN_GRACE_MS)', () => {
  let stack: OrderFeedStack;
  beforeAll(async () => {
    stack = await startOrderFeedStack({ orders: ORDERS, latencyMs: LATENCY_MS });
  }, 60_000);
  afterAll(async () => {
    await stopOrderFeedStack(stack);
  });

  /** worker/main.ts as `npm run start:worker` runs it; resolves once it has said it started. */
  async function startWorker(): Promise<{ child: ChildProcess; output: string[] }> {
    const child = fork(path.resolve(__dirname, '../../worker/main.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        DATABASE_URL: stack.testDb.url,
        TEMPORAL_ADDRESS: stack.env.address,
        TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        PLATFORM_BASE_URL: stack.sandbox.url,
        PLATFORM_API_TOKEN: stack.token,
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        METRICS_ENABLED: 'false',
        WORKFLOW_BUNDLE_PATH: workflowBundle().codePath,
      },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    stack.workers.push(child);
    const output: string[] = [];
    child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (output.join('').includes('"worker started"')) {
          clearInterval(check);
          resolve();
        }
      }, 50);
      child.once('exit', (code) => {
        clearInterval(check);
        reject(new Error(`worker exited with ${code} before it started: ${output.join('').slice(-2_000)}`));
      });
    });
    return { child, output };
  }

  test('SIGTERM mid-activity: the activity completes on its first attempt, its result is recorded, then the worker exits 0', async () => {
    const { child, output } = await startWorker();
    const client = new Client({ connection: stack.env.connection });
    // The worker's schedules (the order import every 5 minutes among them) must not start a
    // second import on this queue meanwhile.
    for await (const s of client.schedule.list()) await client.schedule.getHandle(s.scheduleId).pause('test');

    const handle = await client.workflow.start(ORDER_IMPORT_WORKFLOW_TYPE, {
      workflowId: 'order-import:shutdown-grace',
      taskQueue: TASK_QUEUE,
      args: [{ pageSize: PAGE_SIZE }],
    });
    // Stopped once the activity has committed a page or two, with most of the feed still to read.
    let progress: OrderImportResult | undefined;
    for (let i = 0; i < 400 && !progress; i++) {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      const details = pending?.heartbeatDetails?.payloads?.[0];
      if (details) progress = defaultPayloadConverter.fromPayload<OrderImportResult>(details);
      else await new Promise((r) => setTimeout(r, 25));
    }
    expect(progress).toBeDefined();
    const importedBefore = Number((await stack.testDb.db('orders').count({ n: '*' }))[0]!.n);
    expect(importedBefore).toBeLessThan(ORDERS / 2);

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const stopMs = Date.now() - signalledAt;

    // The process waited for the activity: it ran the rest of the feed (3 s and more) within the grace time.
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(GRACE_MS);
    expect(Number((await stack.testDb.db('orders').count({ n: '*' }))[0]!.n)).toBe(ORDERS);

    // Its result reached the server from the stopping worker: completed, first attempt, the whole feed.
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes;
    expect(started?.attempt).toBe(1);
    const completed = events.find((e) => e.activityTaskCompletedEventAttributes)?.activityTaskCompletedEventAttributes;
    expect(completed).toBeDefined();
    const result = defaultPayloadConverter.fromPayload<OrderImportResult>(completed!.result!.payloads![0]!);
    expect(result).toMatchObject({ lastSeq: ORDERS, inserted: ORDERS });
    expect(events.some((e) => e.activityTaskFailedEventAttributes || e.activityTaskCanceledEventAttributes || e.activityTaskTimedOutEventAttributes)).toBe(false);
    const log = output.join('');
    expect(log).toContain('"msg":"stopping"');
    expect(log).not.toContain('did not drain cleanly');
    process.stdout.write(`shutdown-grace: the worker stopped ${stopMs} ms after SIGTERM, the activity completed (${result.pages} pages)\n`);
  }, 120_000);
});
