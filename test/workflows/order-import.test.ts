import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FeedOrder, PlatformClient } from '../../platform/types';
import { ORDER_IMPORT_WORKFLOW_TYPE, orderImportWorkflowId, PLATFORM_ORDER_FEED, type OrderImportResult } from '../../workflows/order-import.defs';
import { startStack, type Stack } from '../support/stack';
import { appendToFeed } from '../support/feed';

/** When set, the platform's answer to that feed call (counted from 1) is lost once, after the platform answered. */
const faults = { loseAnswerOfCall: 0, readAfter: [] as number[] };

function loseOneFeedAnswer(platform: PlatformClient): PlatformClient {
  return {
    ...platform,
    async orderFeed(after, limit) {
      const page = await platform.orderFeed(after, limit);
      faults.readAfter.push(after);
      if (faults.readAfter.length === faults.loseAnswerOfCall) throw ApplicationFailure.retryable('connection reset while reading the feed', 'PlatformUnavailable');
      return page;
    },
  };
}

const order = (orderId: string, merchantId: string, overrides: Partial<FeedOrder> = {}): FeedOrder => ({
  orderId,
  merchantId,
  shopId: `shop-${merchantId}`,
  category: 'beauty',
  amountFen: 19_900,
  status: 'paid',
  paidAt: '2026-10-02T02:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
  ...overrides,
});

describe('order import workflow (time-skipping)', () => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack({}, { wrapPlatform: loseOneFeedAnswer });
    // A plain client: awaiting results through the time-skipping one would skip time.
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });
  afterEach(() => {
    faults.loseAnswerOfCall = 0;
  });

  const append = (...orders: FeedOrder[]) => appendToFeed(stack, orders);

  const runImport = (pageSize: number) =>
    client.workflow.execute(ORDER_IMPORT_WORKFLOW_TYPE, {
      workflowId: orderImportWorkflowId(),
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ pageSize }],
    }) as Promise<OrderImportResult>;
  const rowsOf = (merchantId: string) => stack.db('orders').where({ merchant_id: merchantId }).orderBy('id');
  const cursor = async () => Number((await stack.db('order_feed_cursors').where({ feed: PLATFORM_ORDER_FEED }).first())?.last_seq ?? 0);

  test('imports new orders page by page, then their receipts and refunds, then finds nothing new', async () => {
    await append(order('o-wf-1', 'm-wf'), order('o-wf-2', 'm-wf'), order('o-wf-3', 'm-wf', { amountFen: 5_000 }));
    expect(await runImport(2)).toEqual({ pages: 2, events: 3, inserted: 3, updated: 0, lastSeq: 3 });
    expect((await rowsOf('m-wf')).map((r) => [r.id, r.status, r.amount_fen])).toEqual([
      ['o-wf-1', 'paid', 19_900],
      ['o-wf-2', 'paid', 19_900],
      ['o-wf-3', 'paid', 5_000],
    ]);

    const receipt = '2026-10-05T02:00:00.000Z';
    await append(
      order('o-wf-1', 'm-wf', { status: 'receipt_confirmed', receiptConfirmedAt: receipt }),
      order('o-wf-2', 'm-wf', { status: 'receipt_confirmed', receiptConfirmedAt: receipt }),
      order('o-wf-2', 'm-wf', { status: 'refunded', receiptConfirmedAt: receipt, refundedAt: '2026-10-07T02:00:00.000Z' }),
      order('o-wf-4', 'm-wf'),
    );
    // o-wf-2's receipt and refund fall in different pages: two updates of one order.
    expect(await runImport(2)).toEqual({ pages: 2, events: 4, inserted: 1, updated: 3, lastSeq: 7 });
    expect((await rowsOf('m-wf')).map((r) => [r.id, r.status, r.feed_seq])).toEqual([
      ['o-wf-1', 'receipt_confirmed', 4],
      ['o-wf-2', 'refunded', 6],
      ['o-wf-3', 'paid', 3],
      ['o-wf-4', 'paid', 7],
    ]);
    expect(await cursor()).toBe(7);

    expect(await runImport(2)).toEqual({ pages: 1, events: 0, inserted: 0, updated: 0, lastSeq: 7 });
  });

  test('a lost platform answer is retried from the cursor: no order twice, no event missed, counts of the whole run', async () => {
    const start = await cursor();
    await append(...Array.from({ length: 5 }, (_, i) => order(`o-retry-${i}`, 'm-retry')));
    faults.readAfter = [];
    faults.loseAnswerOfCall = 2;

    expect(await runImport(2)).toEqual({ pages: 3, events: 5, inserted: 5, updated: 0, lastSeq: start + 5 });
    // The second page was read twice: once for the lost answer, once by the retried attempt.
    expect(faults.readAfter).toEqual([start, start + 2, start + 2, start + 4]);
    expect((await rowsOf('m-retry')).map((r) => r.feed_seq)).toEqual([1, 2, 3, 4, 5].map((i) => start + i));
    expect(await cursor()).toBe(start + 5);
  });
});
