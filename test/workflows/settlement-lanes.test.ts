import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createSettlementActivities } from '../../activities/settlement';
import { loadConfig } from '../../config/config';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { seedOrders } from '../../scripts/seed-orders';
import { activityDepsFrom, createActivities } from '../../worker/dependencies';
import { SETTLEMENT_WORKFLOW_TYPE, settlementWorkflowId, type SettlementResult } from '../../workflows/settlement.defs';
import { createTestDb, type TestDb } from '../support/db';
import { startTimeSkippingEnv, workflowBundle } from '../support/temporal';

const PERIOD = '2026-10';
const TOKEN = 'test-platform-token';
const FIGURES = ['gmv_fen', 'union_fee_fen', 'channel_fee_fen', 'refunds_fen', 'carried_in_fen', 'forfeited_fen', 'net_fen', 'payout_fen', 'carried_out_fen', 'owed_fen'];

/** One copy of the data: its own database, platform and worker (settlement cut small), on its own task queue. */
interface Copy {
  testDb: TestDb;
  sandbox: RunningSandbox;
  worker: Worker;
  running: Promise<void>;
  taskQueue: string;
}

/**
 * The same seeded orders settled twice, in two databases: in one lane, and in three lanes
 * whose batches run at once. Ranges of 5 merchants and batches of 10 give every lane several
 * batches. Statements, payouts and what the platform paid must be the same, merchant by merchant.
 */
describe('monthly settlement in lanes', () => {
  let env: TestWorkflowEnvironment;
  const copies: Copy[] = [];

  async function startCopy(taskQueue: string): Promise<Copy> {
    const testDb = await createTestDb();
    const sandbox = await startSandboxPlatform({ port: 0, token: TOKEN });
    await seedOrders(testDb.db, { orders: 3_000, merchants: 90, period: PERIOD, seed: 13 });
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PLATFORM_BASE_URL: sandbox.url, PLATFORM_API_TOKEN: TOKEN });
    const deps = activityDepsFrom(config, testDb.db);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: {
        ...createActivities(deps),
        ...createSettlementActivities({ db: testDb.db, platform: deps.platform, thresholds: deps.settlementThresholds, sizes: { merchantsPerRange: 5, merchantsPerBatch: 10, payoutsPerPage: 10 } }),
      },
    });
    const copy = { testDb, sandbox, worker, running: worker.run(), taskQueue };
    copies.push(copy);
    return copy;
  }

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
  });
  afterAll(async () => {
    for (const c of copies) {
      c.worker.shutdown();
      await c.running;
      await c.sandbox.close();
      await c.testDb.destroy();
    }
    await env?.teardown();
  });

  async function settle(copy: Copy, lanes: number) {
    // A plain client: awaiting results through the time-skipping one would skip years.
    const client = new Client({ connection: env.connection });
    const workflowId = settlementWorkflowId(PERIOD);
    const result = (await client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId, taskQueue: copy.taskQueue, args: [{ period: PERIOD, lanes }] })) as SettlementResult;
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const activities = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
    const batches = activities.filter((a) => a.activityType?.name === 'settleBatch');
    // Lanes overlap: a batch of one lane is scheduled while another lane's is still running.
    let open = 0;
    let mostAtOnce = 0;
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'settleBatch') mostAtOnce = Math.max(mostAtOnce, ++open);
      if (e.activityTaskCompletedEventAttributes && open > 0) open--;
    }
    const { db } = copy.testDb;
    return {
      result,
      batches: batches.length,
      mostAtOnce,
      statements: (await db('statements').where({ period: PERIOD }).orderBy('merchant_id')).map((s) => [s.merchant_id, ...FIGURES.map((f) => Number(s[f])), s.kind, s.line_count, s.status, s.payout_id]),
      payouts: (await db('payouts').where({ period: PERIOD }).orderBy('merchant_id')).map((p) => [p.idempotency_key, p.merchant_id, Number(p.amount_fen), p.status]),
      paid: copy.sandbox.state.payouts
        .filter((p) => p.period === PERIOD)
        .map((p) => [p.period, p.merchantId, p.amountFen])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      orders: (await db('orders').orderBy('id').select('id', 'settled_period', 'refund_settled_period')).map((o) => [o.id, o.settled_period, o.refund_settled_period]),
      run: await db('settlement_runs').where({ period: PERIOD }).first('status', 'merchants_done', 'totals', 'failures'),
    };
  }

  test('three lanes settle, pay and count exactly what one lane does', async () => {
    const [one, three] = await Promise.all([startCopy('settlement-one-lane'), startCopy('settlement-three-lanes')]);
    const single = await settle(one, 1);
    const laned = await settle(three, 3);

    expect(single.statements.length).toBeGreaterThan(60);
    expect(laned.statements).toEqual(single.statements);
    expect(laned.payouts).toEqual(single.payouts);
    expect(laned.paid).toEqual(single.paid);
    expect(laned.paid).toHaveLength(single.payouts.length);
    expect(laned.orders).toEqual(single.orders);
    expect(laned.run).toEqual(single.run);
    expect(laned.run).toMatchObject({ status: 'completed', merchants_done: single.statements.length });
    expect(laned.result).toEqual(single.result);
    expect(laned.result).toMatchObject({ statements: single.statements.length, payouts: single.payouts.length, merchantsDone: single.statements.length });

    // Each of the three lanes ran several batches (10 merchants each), and lanes ran at once.
    expect(laned.batches).toBeGreaterThanOrEqual(single.batches);
    expect(laned.batches).toBeGreaterThanOrEqual(3 * 2);
    expect(single.mostAtOnce).toBe(1);
    expect(laned.mostAtOnce).toBe(3);
  });
});
