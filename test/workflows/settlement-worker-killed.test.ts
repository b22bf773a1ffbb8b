import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSandboxPlatform } from '../../platform/sandbox';
import type { SandboxState } from '../../platform/sandbox/state';
import { seedOrders } from '../../scripts/seed-orders';
import { settlementWorkflowId, SETTLEMENT_WORKFLOW_TYPE, type SettlementResult } from '../../workflows/settlement.defs';
import { createTestDb, type TestDb } from '../support/db';
import { killableWorkers } from '../support/killable-worker';
import { startTimeSkippingEnv } from '../support/temporal';

const PERIOD = '2026-10';
const TOKEN = 'test-platform-token';
const TASK_QUEUE = 'settlement-killed';

/**
 * The sandbox platform behind a switch that lets one payout batch be paid and its answer
 * never sent: the worker dies knowing nothing of a payment the platform made.
 */
async function startPlatform(): Promise<{ url: string; state: SandboxState; loseAnswerOfBatch(n: number): Promise<void>; close(): Promise<void> }> {
  const { app, state } = createSandboxPlatform({ token: TOKEN });
  let hold: { countdown: number; paid: () => void } | undefined;
  const outer = express();
  outer.use((req, res, next) => {
    if (hold && req.path.endsWith('/payments/payouts/batch') && --hold.countdown === 0) {
      const { paid } = hold;
      hold = undefined;
      res.end = (() => {
        paid();
        return res;
      }) as typeof res.end;
    }
    next();
  });
  outer.use(app);
  const server = await new Promise<Server>((resolve) => {
    const s = outer.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    /** Resolves once the n-th batch call from now has been paid and its answer dropped. */
    loseAnswerOfBatch: (n: number) => new Promise<void>((resolve) => (hold = { countdown: n, paid: resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met within 30 s');
}

// A worker process needs a database it can reach: PostgreSQL (CI sets DATABASE_URL), not in-memory PGlite.
const describeWithPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeWithPostgres('monthly settlement with its worker killed (SIGKILL) mid-run', () => {
  let env: TestWorkflowEnvironment;
  let testDb: TestDb;
  let platform: Awaited<ReturnType<typeof startPlatform>>;

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
    testDb = await createTestDb();
    platform = await startPlatform();
    await seedOrders(testDb.db, { orders: 2_000, merchants: 40, period: PERIOD, seed: 11 });
  });
  afterAll(async () => {
    workers.killAll();
    await platform?.close();
    await testDb?.destroy();
    await env?.teardown();
  });

  const workers = killableWorkers(path.join(__dirname, '../support/settlement-worker-process.ts'), () => ({
    databaseUrl: testDb.url!,
    temporalAddress: env.address,
    namespace: env.namespace,
    taskQueue: TASK_QUEUE,
    platformUrl: platform.url,
    platformToken: TOKEN,
  }));
  const startWorker = () => workers.start();
  const kill = (child: ChildProcess) => workers.kill(child);


  /**
   * The server gives up on a dead worker's attempt when its heartbeat timeout (20 s) passes;
   * the time-skipping server cannot skip that (an activity in flight holds time), so the test
   * reports the attempt failed as the timeout would, and the retry policy takes over as in
   * production. test/workflows/worker-killed-recovery.test.ts lets the real timeout happen.
   */
  async function timeOutAttemptsOfDeadWorker(handle: WorkflowHandle): Promise<void> {
    const { raw } = await handle.describe();
    const pending = raw.pendingActivities ?? [];
    expect(pending).toHaveLength(1);
    for (const a of pending) {
      await env.asyncCompletionClient.fail(
        { workflowId: handle.workflowId, runId: raw.workflowExecutionInfo?.execution?.runId ?? undefined, activityId: a.activityId! },
        new Error('worker lost: heartbeat timeout'),
      );
    }
  }

  test('exactly one statement and one payout per merchant, with the platform paying each once', async () => {
    const db = testDb.db;
    const merchants: string[] = await db('orders').distinct('merchant_id').orderBy('merchant_id').pluck('merchant_id');
    expect(merchants).toHaveLength(40);

    // Crash 1, while statements are written: the third range (merchants 11–15) waits on a
    // statement row this test holds uncommitted, and the worker dies waiting.
    const blocker = await db.transaction();
    await blocker('statements').insert({
      merchant_id: merchants[12],
      period: PERIOD,
      ...Object.fromEntries(['gmv_fen', 'union_fee_fen', 'channel_fee_fen', 'refunds_fen', 'carried_in_fen', 'forfeited_fen', 'net_fen', 'payout_fen', 'carried_out_fen'].map((c) => [c, 0])),
      line_count: 0,
      status: 'carried',
    });
    const first = await startWorker();
    const client = new Client({ connection: env.connection });
    const handle = await client.workflow.start(SETTLEMENT_WORKFLOW_TYPE, {
      workflowId: settlementWorkflowId(PERIOD),
      taskQueue: TASK_QUEUE,
      // One lane: the crashes below are placed by counting one chain's statements and pages.
      args: [{ period: PERIOD, lanes: 1 }],
    });
    await until(
      async () => {
        const { rows } = (await db.raw(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )) as { rows: Array<{ n: number }> };
        return rows[0]!.n;
      },
      (n) => n > 0,
    );
    expect(await db('statements').where({ period: PERIOD }).count({ n: '*' })).toEqual([{ n: 10 }]);
    await kill(first);
    await blocker.rollback();
    // The killed transaction's statements never commit.
    expect(await db('statements').where({ period: PERIOD }).count({ n: '*' })).toEqual([{ n: 10 }]);

    // Crash 2, while paying: the second page's batch is paid by the platform, its answer lost.
    const paidWithoutAnswer = platform.loseAnswerOfBatch(2);
    const second = await startWorker();
    await timeOutAttemptsOfDeadWorker(handle);
    await paidWithoutAnswer;
    const pending = await db('payouts').where({ period: PERIOD }).select('status');
    expect(pending.filter((p) => p.status === 'paid')).toHaveLength(10);
    expect(pending.filter((p) => p.status === 'requested')).toHaveLength(10);
    await kill(second);

    await startWorker();
    await timeOutAttemptsOfDeadWorker(handle);
    const result = (await handle.result()) as SettlementResult;

    // One statement per merchant holding every order once.
    const statements = await db('statements').where({ period: PERIOD }).orderBy('merchant_id');
    expect(statements.map((s) => s.merchant_id)).toEqual(merchants);
    // Every receipt-confirmed order (the seed also makes some refunded or not yet received) is settled, once.
    const { rows } = (await db.raw(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE settled_period = ?)::int AS settled, sum(amount_fen)::bigint AS fen
         FROM orders WHERE status = 'receipt_confirmed'`,
      [PERIOD],
    )) as { rows: Array<{ n: number; settled: number; fen: string | number }> };
    expect(rows[0]!.settled).toBe(rows[0]!.n);
    expect(await db('orders').whereNot({ status: 'receipt_confirmed' }).whereNotNull('settled_period')).toEqual([]);
    expect(statements.reduce((sum, s) => sum + Number(s.gmv_fen), 0)).toBe(Number(rows[0]!.fen));
    expect(statements.reduce((sum, s) => sum + s.line_count, 0)).toBe(rows[0]!.n);

    // One payout per payable statement, paid once by the platform, for the statement's amount.
    const payable = statements.filter((s) => Number(s.payout_fen) > 0);
    const payouts = await db('payouts').where({ period: PERIOD }).orderBy('merchant_id');
    expect(payouts.map((p) => [p.merchant_id, Number(p.amount_fen), p.status])).toEqual(payable.map((s) => [s.merchant_id, Number(s.payout_fen), 'paid']));
    const paid = platform.state.payouts.filter((p) => p.period === PERIOD);
    expect(paid.map((p) => [p.merchantId, p.amountFen]).sort()).toEqual(payable.map((s) => [s.merchant_id, Number(s.payout_fen)]).sort());
    // The lost page was asked for again, and answered from the first payment.
    const batchCalls = platform.state.calls.filter((c) => c.path.endsWith('/payouts/batch'));
    expect(batchCalls.length).toBe(Math.ceil(payable.length / 10) + 1);

    expect(result).toMatchObject({ period: PERIOD, statements: merchants.length, payouts: payable.length, missingRate: [] });
    expect(await db('settlement_runs').where({ period: PERIOD }).first()).toMatchObject({ status: 'completed', merchants_done: merchants.length });
  });
});
