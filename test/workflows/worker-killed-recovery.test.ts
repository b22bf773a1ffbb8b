import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { decodeTimeoutType } from '@temporalio/common';
import { ORDER_IMPORT_WORKFLOW_TYPE, type OrderImportResult } from '../../workflows/order-import.defs';
import { startOrderFeedStack, stopOrderFeedStack, type OrderFeedStack } from '../support/order-feed-stack';

const TASK_QUEUE = 'worker-killed-recovery';
const ORDERS = 40;

const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;

// A worker process needs a database it can reach: PostgreSQL (CI sets DATABASE_URL), not in-memory PGlite.
const describeWithPostgres = process.env.DATABASE_URL ? describe : describe.skip;

/**
 * A worker killed (SIGKILL) in the middle of a long activity: the server learns of it only by
 * the heartbeats stopping. On the real dev server (the time-skipping one holds time while an
 * activity is in flight), the retry must start within the heartbeat timeout, not minutes later.
 */
describeWithPostgres('a long activity whose worker is killed is retried within seconds', () => {
  let stack: OrderFeedStack;
  beforeAll(async () => {
    // Each feed page takes 300 ms at the platform: 20 pages keep the import busy for seconds.
    stack = await startOrderFeedStack({ orders: ORDERS, latencyMs: 300 });
  }, 60_000);
  afterAll(async () => {
    await stopOrderFeedStack(stack);
  });

  function startWorker(): Promise<ChildProcess> {
    const child = fork(path.join(__dirname, '../support/settlement-worker-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        DATABASE_URL: stack.testDb.url,
        TEMPORAL_ADDRESS: stack.env.address,
        TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        PLATFORM_BASE_URL: stack.sandbox.url,
        PLATFORM_API_TOKEN: stack.token,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    stack.workers.push(child);
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(child));
      child.once('exit', (code) => reject(new Error(`worker process exited with ${code} before polling`)));
    });
  }

  test('the order import resumes on another worker about a heartbeat timeout after the kill', async () => {
    const first = await startWorker();
    const client = new Client({ connection: stack.env.connection });
    const handle = await client.workflow.start(ORDER_IMPORT_WORKFLOW_TYPE, {
      workflowId: 'order-import:recovery',
      taskQueue: TASK_QUEUE,
      args: [{ pageSize: 2 }],
    });
    // Killed once the server has seen the activity's progress.
    let beforeKill: NonNullable<Awaited<ReturnType<typeof handle.describe>>['raw']['pendingActivities']>[number] | undefined;
    for (let i = 0; i < 600 && !beforeKill?.heartbeatDetails; i++) {
      beforeKill = (await handle.describe()).raw.pendingActivities?.[0];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(beforeKill?.heartbeatDetails).toBeTruthy();
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    await startWorker();

    const result = (await handle.result()) as OrderImportResult;
    expect(result.lastSeq).toBe(ORDERS);
    expect(await stack.testDb.db('orders').count({ n: '*' })).toEqual([{ n: ORDERS }]);

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes)!;
    expect(seconds(scheduled.activityTaskScheduledEventAttributes?.heartbeatTimeout)).toBe(20);
    const started = events.find((e) => e.activityTaskStartedEventAttributes)!;
    const attrs = started.activityTaskStartedEventAttributes!;
    // The attempt that finished is the second: the first was given up for its silence.
    expect(attrs.attempt).toBe(2);
    expect(decodeTimeoutType(attrs.lastFailure?.timeoutFailureInfo?.timeoutType)).toBe('HEARTBEAT');

    // Server clocks, not the test's: from the killed attempt's last heartbeat to the retry's start.
    const retryAfterSeconds = seconds(started.eventTime) - seconds(beforeKill!.lastHeartbeatTime);
    process.stdout.write(`worker-killed-recovery: retried ${retryAfterSeconds.toFixed(1)} s after the last heartbeat of the killed attempt\n`);
    // The heartbeat timeout (20 s) plus the first retry interval (2 s), well short of the minutes it used to be.
    expect(retryAfterSeconds).toBeLessThan(30);
  }, 120_000);
});
