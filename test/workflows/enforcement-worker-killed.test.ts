import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createOrderImportActivities } from '../../activities/order-import';
import { createEnforcementRepository } from '../../db/repositories/enforcement';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { approveEnforcementUpdate, ENFORCEMENT_WORKFLOW_TYPE, enforcementWorkflowId, type EnforcementResult } from '../../workflows/enforcement-action.defs';
import { createTestDb, type TestDb } from '../support/db';
import { feedOrdersOf, onPlatformFeed, platformRefundsByOrder, seedEnforcedShop } from '../support/enforcement';
import { killableWorkers } from '../support/killable-worker';
import { startTimeSkippingEnv } from '../support/temporal';

const TOKEN = 'test-platform-token';
const TASK_QUEUE = 'enforcement-killed';
const shop = { shopId: 'shop-enf-kill', merchantId: 'm-enf-kill' };
const ACTION = 'enf_0123456789abcdef01234567';

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met within 60 s');
}

// A worker process needs a database it can reach: PostgreSQL (CI sets DATABASE_URL), not in-memory PGlite.
const describeWithPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeWithPostgres('mass refund with its worker killed (SIGKILL) mid-way and 20% platform faults', () => {
  let env: TestWorkflowEnvironment;
  let testDb: TestDb;
  let sandbox: RunningSandbox;

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
    testDb = await createTestDb();
    // Every call waits 30 ms and one in five fails with 503 before the platform acts.
    sandbox = await startSandboxPlatform({ port: 0, token: TOKEN, latencyMs: 30, errorRate: 0.2 });
    await seedEnforcedShop(testDb.db, shop, 1_500);
    onPlatformFeed(sandbox.state, await feedOrdersOf(testDb.db, shop.shopId));
  });
  afterAll(async () => {
    workers.killAll();
    await sandbox?.close();
    await testDb?.destroy();
    await env?.teardown();
  });

  const workers = killableWorkers(path.join(__dirname, '../support/enforcement-worker-process.ts'), () => ({
    databaseUrl: testDb.url!,
    temporalAddress: env.address,
    namespace: env.namespace,
    taskQueue: TASK_QUEUE,
    platformUrl: sandbox.url,
    platformToken: TOKEN,
  }));
  const startWorker = () => workers.start();
  const kill = (child: ChildProcess) => workers.kill(child);


  /**
   * The server gives a dead worker's attempt up after its heartbeat timeout; the time-skipping
   * server cannot skip that while the attempt is in flight, so the test reports it failed as
   * the timeout would (as test/workflows/settlement-worker-killed.test.ts does).
   */
  async function timeOutAttemptsOfDeadWorker(handle: WorkflowHandle): Promise<void> {
    const { raw } = await handle.describe();
    for (const a of raw.pendingActivities ?? []) {
      await env.asyncCompletionClient
        .fail({ workflowId: handle.workflowId, runId: raw.workflowExecutionInfo?.execution?.runId ?? undefined, activityId: a.activityId! }, new Error('worker lost: heartbeat timeout'))
        .catch(() => undefined);
    }
  }

  test('every open order refunded exactly once: count by key at the platform = count of orders', async () => {
    const db = testDb.db;
    const toRefund: string[] = await db('orders').where({ shop_id: shop.shopId }).whereNot({ status: 'refunded' }).orderBy('id').pluck('id');
    expect(toRefund).toHaveLength(1_470);
    await createEnforcementRepository(db).insertAction({ id: ACTION, shop_id: shop.shopId, merchant_id: shop.merchantId, reason: 'forged_brand_authorisation', evidence: 'brand owner letter: authorisation forged', opened_by: 'olga', workflow_id: enforcementWorkflowId(ACTION) });

    const first = await startWorker();
    const client = new Client({ connection: env.connection });
    const handle = await client.workflow.start(ENFORCEMENT_WORKFLOW_TYPE, {
      workflowId: enforcementWorkflowId(ACTION),
      taskQueue: TASK_QUEUE,
      args: [{ actionId: ACTION, shopId: shop.shopId, merchantId: shop.merchantId, openedBy: 'olga', pageSize: 30, pagesPerCall: 5 }],
    });
    await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'pan' }] });

    // Killed mid-way: some pages recorded, the rest not yet sent.
    await until(
      async () => Number((await db('enforcement_refunds').where({ action_id: ACTION }).count({ n: '*' }))[0]!.n),
      (n) => n >= 300,
    );
    await kill(first);
    const recordedAtKill = Number((await db('enforcement_refunds').where({ action_id: ACTION }).count({ n: '*' }))[0]!.n);
    expect(recordedAtKill).toBeLessThan(toRefund.length);

    await startWorker();
    await timeOutAttemptsOfDeadWorker(handle);
    const result = (await handle.result()) as EnforcementResult;

    // The platform paid each order once, under its own key, and nothing else of the shop.
    const byOrder = platformRefundsByOrder(sandbox.state, shop.shopId);
    expect([...byOrder.keys()].sort()).toEqual(toRefund);
    expect([...byOrder.values()].every((n) => n === 1)).toBe(true);
    expect(sandbox.state.orderRefunds.size).toBe(toRefund.length);
    // Faults happened and were retried: more batch calls were made than pages needed.
    const batchCalls = sandbox.state.calls.filter((c) => c.path.endsWith('/order-refunds/batch'));
    expect(batchCalls.some((c) => c.status === 503)).toBe(true);

    // Our records agree: one row per order, all refunded.
    const rows = await db('enforcement_refunds').where({ action_id: ACTION }).orderBy('order_id');
    expect(rows.map((r) => [r.order_id, r.state])).toEqual(toRefund.map((id) => [id, 'refunded']));
    // `orders` is the order feed's to write: once the import (faults off: they were for the walk)
    // has brought the refunds the platform appended, every order of the shop is refunded, at the platform's time.
    expect(await db('orders').where({ shop_id: shop.shopId }).whereNot({ status: 'refunded' }).orderBy('id').pluck('id')).toEqual(toRefund);
    sandbox.state.settings.errorRate = 0;
    const platform = createPlatformClient({ baseUrl: sandbox.url, token: TOKEN, timeoutMs: 10_000 });
    await new MockActivityEnvironment().run(createOrderImportActivities({ db, platform }).importOrders, {});
    expect(await db('orders').where({ shop_id: shop.shopId }).whereNot({ status: 'refunded' }).count({ n: '*' })).toEqual([{ n: 0 }]);
    const { rows: atPlatformTime } = (await db.raw(
      `SELECT count(*)::int AS n FROM orders o JOIN enforcement_refunds r ON r.order_id = o.id WHERE r.action_id = ? AND o.refunded_at = r.refunded_at`,
      [ACTION],
    )) as { rows: Array<{ n: number }> };
    expect(atPlatformTime[0]!.n).toBe(toRefund.length);
    expect(result).toEqual({ actionId: ACTION, state: 'completed', refunded: expect.any(Number), refused: 0 });
    expect(await db('enforcement_actions').where({ id: ACTION }).first()).toMatchObject({ state: 'completed', approved_by: 'pan' });
    // Withdrawals restricted once, before any refund.
    expect([...sandbox.state.shops.get(shop.shopId)!.restrictions]).toContain('restrict_withdrawals');
  });
});
