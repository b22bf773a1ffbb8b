import type { ChildProcess } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { FeedOrder } from '../../platform/types';
import { createTestDb, type TestDb } from './db';
import { temporalCliPath } from './temporal';

/**
 * What the suites that run a worker in a process of its own share: a local dev server, a test
 * database, and the sandbox platform with paid orders in its feed, each feed page slowed so the
 * order import stays busy for seconds while the test stops or kills its worker.
 */
export interface OrderFeedStack {
  env: TestWorkflowEnvironment;
  testDb: TestDb;
  sandbox: RunningSandbox;
  /** The platform token the worker calls the sandbox with. */
  token: string;
  /** Worker processes started by the suite: killed at teardown if still running. */
  workers: ChildProcess[];
}

const TOKEN = 'test-platform-token';

/** The i-th paid order of the feed (4 merchants, 199 CNY each). */
export const feedOrder = (i: number): FeedOrder => ({
  orderId: `o-${i}`,
  merchantId: `m-${i % 4}`,
  shopId: `shop-m-${i % 4}`,
  category: 'beauty',
  amountFen: 19_900,
  status: 'paid',
  paidAt: '2026-10-02T02:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
});

export async function startOrderFeedStack({ orders, latencyMs }: { orders: number; latencyMs: number }): Promise<OrderFeedStack> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
  });
  const testDb = await createTestDb();
  const sandbox = await startSandboxPlatform({ port: 0, token: TOKEN, latencyMs });
  const res = await fetch(`${sandbox.url}/v1/_orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ orders: Array.from({ length: orders }, (_, i) => feedOrder(i + 1)) }),
  });
  if (res.status !== 201) throw new Error(`the sandbox refused the feed: ${res.status}`);
  return { env, testDb, sandbox, token: TOKEN, workers: [] };
}

export async function stopOrderFeedStack(stack: OrderFeedStack | undefined): Promise<void> {
  for (const w of stack?.workers ?? []) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await stack?.sandbox.close(0);
  await stack?.testDb.destroy();
  await stack?.env.teardown();
}
