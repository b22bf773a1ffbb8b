import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { FeedOrder } from '../../platform/types';

const TOKEN = 't';
const paidOrder = (orderId: string): FeedOrder => ({
  orderId,
  merchantId: 'm-feed',
  shopId: 'shop-m-feed',
  category: 'apparel',
  amountFen: 12_900,
  status: 'paid',
  paidAt: '2026-10-03T02:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
});

// A restart is a new sandbox over the same state file, as `npm start` after Ctrl-C is.
describe('the sandbox platform remembers across a restart', () => {
  let dir: string;
  let stateFile: string;
  let sandbox: RunningSandbox | undefined;
  const start = async () => {
    sandbox = await startSandboxPlatform({ port: 0, token: TOKEN, stateFile });
    return { sandbox, client: createPlatformClient({ baseUrl: sandbox.url, token: TOKEN, timeoutMs: 5_000 }) };
  };
  const restart = async () => {
    await sandbox!.close();
    return start();
  };
  const control = (method: string, urlPath: string, body?: unknown) =>
    fetch(`${sandbox!.url}/v1${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-state-'));
    stateFile = path.join(dir, 'sandbox-state.json');
  });
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a payout retried with its key after a restart is not paid again', async () => {
    const input = { merchantId: 'm-1', period: '2026-10', amountFen: 123_456 };
    const first = await (await start()).client.payout(input, 'settle:m-1:2026-10');
    const { sandbox: restarted, client } = await restart();
    expect(await client.payout(input, 'settle:m-1:2026-10')).toEqual(first);
    expect(restarted.state.payouts).toHaveLength(1);
  });

  test('a batch item paid before a restart is replayed, not paid, by the retried batch', async () => {
    const item = { idempotencyKey: 'settle:m-a:2026-09', merchantId: 'm-a', period: '2026-09', amountFen: 100 };
    const first = await (await start()).client.payoutBatch([item]);
    const { sandbox: restarted, client } = await restart();
    const retried = await client.payoutBatch([item]);
    expect(retried.payouts[0]).toMatchObject({ payoutId: first.payouts[0]!.payoutId, replayed: true });
    expect(restarted.state.payouts).toHaveLength(1);
  });

  test('restrictions set before a restart are still in force after it', async () => {
    const change = { action: 'apply' as const, restrictions: ['stop_sales' as const, 'restrict_withdrawals' as const], reason: 'shop closed' };
    await (await start()).client.setRestrictions('s-1', change, 'restrict:s-1');
    await restart();
    expect((await control('GET', '/shops/s-1/restrictions')).body).toEqual({ inForce: ['stop_sales', 'restrict_withdrawals'] });
  });

  test('a payment confirmed before a restart still reads confirmed, and its refund is remembered', async () => {
    await start();
    const made = await control('POST', '/_payments', { shopId: 's-2', account: 'deposit', amountFen: 50_000, payerAccount: 'acct-1', status: 'confirmed' });
    const paymentId = String(made.body.paymentId);
    const refund = { shopId: 's-2', account: 'deposit' as const, amountFen: 20_000, reference: 'closure:s-2', paymentId };
    const refunded = await (await restart()).client.refund(refund, 'refund:s-2');

    const { client } = await restart();
    expect(await client.payment(paymentId)).toMatchObject({ status: 'confirmed', amountFen: 50_000, refundedFen: 20_000 });
    expect(await client.refund(refund, 'refund:s-2')).toEqual(refunded);
    expect((await control('GET', '/payments/refunds?shopId=s-2')).body).toMatchObject({ refunds: [{ refundId: refunded.refundId }] });
  });

  test('the order feed and the call log carry on where they were', async () => {
    await start();
    expect((await control('POST', '/_orders', { orders: [paidOrder('o-1'), paidOrder('o-2')] })).status).toBe(201);
    const { client } = await restart();
    const page = await client.orderFeed(0, 10);
    expect(page.events.map((e) => [e.seq, e.order.orderId])).toEqual([[1, 'o-1'], [2, 'o-2']]);
    const calls = (await control('GET', '/calls')).body.calls as Array<{ seq: number; path: string }>;
    await restart();
    // The read before this restart is in the log, and the next call numbers on after it.
    expect((await control('GET', '/calls')).body.calls).toEqual(calls);
    expect(calls.map((c) => c.path)).toEqual(['/v1/orders/feed']);
    await control('GET', '/shops/s-3/restrictions');
    const numbered = (await control('GET', '/calls')).body.calls as Array<{ seq: number }>;
    expect(numbered.map((c) => c.seq)).toEqual([calls[0]!.seq, calls[0]!.seq + 1]);
  });

  test('without a state file the sandbox forgets, as before', async () => {
    const memoryOnly = await startSandboxPlatform({ port: 0, token: TOKEN });
    const client = createPlatformClient({ baseUrl: memoryOnly.url, token: TOKEN, timeoutMs: 5_000 });
    await client.payout({ merchantId: 'm-9', period: '2026-10', amountFen: 1 }, 'k-9');
    await memoryOnly.close();
    expect(fs.existsSync(stateFile)).toBe(false);
  });
});
