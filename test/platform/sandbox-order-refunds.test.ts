import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { FeedOrder, OrderRefundItem } from '../../platform/types';

const order = (orderId: string, overrides: Partial<FeedOrder> = {}): FeedOrder => ({
  orderId,
  merchantId: 'm-1',
  shopId: 'shop-m-1',
  category: 'apparel',
  amountFen: 10_000,
  status: 'receipt_confirmed',
  paidAt: '2026-11-01T02:00:00.000Z',
  receiptConfirmedAt: '2026-11-03T02:00:00.000Z',
  refundedAt: null,
  ...overrides,
});
const item = (orderId: string, overrides: Partial<OrderRefundItem> = {}): OrderRefundItem => ({ idempotencyKey: `order-refund:${orderId}`, orderId, shopId: 'shop-m-1', amountFen: 10_000, reason: 'enforcement refund', ...overrides });

/** Consumer order refunds in batches: one refund per key, refusals per item with a reason code. */
describe('sandbox order refunds', () => {
  let sandbox: RunningSandbox;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-refunds-'));
    sandbox = await startSandboxPlatform({ port: 0, token: 't', stateFile: path.join(dir, 'state.json') });
    sandbox.state.orderFeed.push(...[order('o-1'), order('o-2'), order('o-3', { status: 'refunded', refundedAt: '2026-11-05T02:00:00.000Z' }), order('o-4', { shopId: 'shop-m-2' })].map((o, i) => ({ seq: i + 1, order: o })));
  });
  afterAll(async () => {
    await sandbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('refunds each item once by its key; refusals name their reason; a retried batch pays nothing twice', async () => {
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    const first = await client.orderRefundBatch([item('o-1'), item('o-2', { amountFen: 10_001 }), item('o-3'), item('o-4'), item('o-9')]);
    expect(first.refunds.map((r) => [r.orderId, r.outcome, r.outcome === 'refused' ? r.reason : r.replayed])).toEqual([
      ['o-1', 'refunded', false],
      ['o-2', 'refused', 'amount_exceeds_order'],
      ['o-3', 'refused', 'order_already_refunded'],
      ['o-4', 'refused', 'order_not_of_shop'],
      ['o-9', 'refused', 'order_unknown'],
    ]);
    const retried = await client.orderRefundBatch([item('o-1'), item('o-2')]);
    expect(retried.refunds.map((r) => [r.orderId, r.outcome, r.outcome === 'refunded' ? r.replayed : r.reason])).toEqual([
      ['o-1', 'refunded', true],
      ['o-2', 'refunded', false],
    ]);
    expect(retried.refunds[0]).toMatchObject({ refundId: (first.refunds[0] as { refundId: string }).refundId });
    // A second key for a refunded order is refused: the refund ended the order.
    expect((await client.orderRefundBatch([item('o-1', { idempotencyKey: 'other-key' })])).refunds[0]).toMatchObject({ outcome: 'refused', reason: 'order_already_refunded' });
    expect(sandbox.state.orderRefunds.size).toBe(2);
    // The platform's order feed carries the refunds, as it carries every order change.
    expect(sandbox.state.orderFeed.filter((e) => e.order.status === 'refunded').map((e) => e.order.orderId)).toEqual(['o-3', 'o-1', 'o-2']);
  });

  test('refusals of a malformed batch are 400s, not retried', async () => {
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    await expect(client.orderRefundBatch([])).rejects.toMatchObject({ type: 'PlatformRejected', nonRetryable: true });
    await expect(client.orderRefundBatch([item('o-5', { amountFen: 0 })])).rejects.toMatchObject({ type: 'PlatformRejected' });
  });

  test('refunds survive a restart of the sandbox: a key is still answered from its refund', async () => {
    await sandbox.close();
    sandbox = await startSandboxPlatform({ port: 0, token: 't', stateFile: path.join(dir, 'state.json') });
    expect(sandbox.state.orderRefunds.size).toBe(2);
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    expect((await client.orderRefundBatch([item('o-1')])).refunds[0]).toMatchObject({ outcome: 'refunded', replayed: true });
  });
});
