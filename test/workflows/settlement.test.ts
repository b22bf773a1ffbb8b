import { Client } from '@temporalio/client';
import { seedOrders } from '../../scripts/seed-orders';
import { settlementWorkflowId, SETTLEMENT_WORKFLOW_TYPE, type SettlementResult } from '../../workflows/settlement.defs';
import { startStack, type Stack } from '../support/stack';
import { appendToFeed } from '../support/feed';

const PERIOD = '2026-10';

describe('monthly settlement workflow', () => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack();
    // A plain client: awaiting results through the time-skipping one would skip years.
    client = new Client({ connection: stack.env.connection });
    await seedOrders(stack.db, { orders: 6_000, merchants: 120, period: PERIOD, seed: 7 });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const run = (workflowId: string, taskQueue = stack.config.TEMPORAL_TASK_QUEUE) =>
    client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId, taskQueue, args: [{ period: PERIOD }] }) as Promise<SettlementResult>;

  test('settles every merchant once, pays the payable ones once, and a re-run changes nothing and says so', async () => {
    // Published by the platform's order feed, not imported yet: the run brings the feed up to date first.
    await appendToFeed(stack, [
      {
        orderId: 'fed-1',
        merchantId: 'm-fed',
        shopId: 'shop-m-fed',
        category: 'beauty',
        amountFen: 30_000,
        status: 'receipt_confirmed',
        paidAt: '2026-10-02T02:00:00.000Z',
        receiptConfirmedAt: '2026-10-31T15:59:59.000Z',
        refundedAt: null,
      },
    ]);

    const first = await run(settlementWorkflowId(PERIOD));
    // 30,000 − 15% − 4%, confirmed at 23:59:59 on 31 October, Shanghai time.
    expect(await stack.db('statements').where({ merchant_id: 'm-fed', period: PERIOD }).first()).toMatchObject({ gmv_fen: 30_000, net_fen: 24_300 });
    // Every order settled in the period is counted once, in its merchant's one statement.
    const settled = await stack.db.raw(
      `SELECT count(DISTINCT merchant_id)::int AS merchants, COALESCE(sum(amount_fen), 0)::bigint AS gmv FROM orders WHERE settled_period = ?`,
      [PERIOD],
    );
    const statements = await stack.db('statements').where({ period: PERIOD });
    expect(first.statements).toBe(statements.length);
    expect(statements.length).toBe(settled.rows[0].merchants);
    expect(new Set(statements.map((s) => s.merchant_id)).size).toBe(statements.length);
    expect(statements.reduce((a, s) => a + Number(s.gmv_fen), 0)).toBe(Number(settled.rows[0].gmv));

    const payable = statements.filter((s) => Number(s.payout_fen) > 0);
    expect(first.payouts).toBe(payable.length);
    expect(stack.sandbox.state.payouts.filter((p) => p.period === PERIOD)).toHaveLength(payable.length);
    for (const s of payable) {
      expect(stack.sandbox.state.payouts.find((p) => p.merchantId === s.merchant_id)?.amountFen).toBe(Number(s.payout_fen));
    }
    expect((await stack.db('settlement_runs').where({ period: PERIOD }).first()).status).toBe('completed');

    const again = await run(`${settlementWorkflowId(PERIOD)}:rerun`);
    expect(again).toMatchObject({ statements: 0, payouts: 0, alreadySettled: true });
    expect(await stack.db('statements').where({ period: PERIOD })).toHaveLength(statements.length);
    expect(stack.sandbox.state.payouts.filter((p) => p.period === PERIOD)).toHaveLength(payable.length);
  });
});
