import { MockActivityEnvironment } from '@temporalio/testing';
import { createEnforcementActivities, type EnforcementActivities, type RefundPagesResult } from '../../activities/enforcement';
import { createOrderImportActivities } from '../../activities/order-import';
import { createEnforcementRepository } from '../../db/repositories/enforcement';
import { createStatementRepository } from '../../db/repositories/settlement/statements';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { createTestDb, type TestDb } from '../support/db';
import { feedOrdersOf, onPlatformFeed, platformRefundsByOrder, seedEnforcedShop } from '../support/enforcement';

/**
 * The refund pages over PostgreSQL and the sandbox platform: every open order of the shop
 * refunded once, refusals recorded with the platform's reason, a page retried after a lost
 * answer paid no second time, and maker ≠ checker held by the database. `orders` learns of the
 * refunds only from the order feed, through the order import (its one writer), and settlement
 * then takes the commission back.
 */
describe('enforcement activities', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let activities: EnforcementActivities;
  let importOrders: () => Promise<unknown>;
  const shop = { shopId: 'shop-enf-1', merchantId: 'm-enf-1' };
  const openOrdersOf = async (shopId: string) => Number((await t.db('orders').where({ shop_id: shopId }).whereNot({ status: 'refunded' }).count({ n: '*' }))[0]!.n);

  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    const platform = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    activities = createEnforcementActivities({ db: t.db, platform, callTries: 1, retryDelayMs: 0 });
    // The order import as it runs every 5 minutes and before every settlement: the whole feed, from our cursor.
    const { importOrders: importActivity } = createOrderImportActivities({ db: t.db, platform });
    importOrders = () => new MockActivityEnvironment().run(importActivity, {});
    await seedEnforcedShop(t.db, shop, 230);
    const feed = await feedOrdersOf(t.db, shop.shopId);
    // The platform does not know order 7, and already refunded order 11 (our feed import is behind).
    onPlatformFeed(
      sandbox.state,
      feed.filter((o) => !o.orderId.endsWith('0000007')).map((o) => (o.orderId.endsWith('0000011') ? { ...o, status: 'refunded', receiptConfirmedAt: o.receiptConfirmedAt, refundedAt: new Date().toISOString() } : o)),
    );
    await createEnforcementRepository(t.db).insertAction({ id: 'enf_a', shop_id: shop.shopId, merchant_id: shop.merchantId, reason: 'forged_brand_authorisation', evidence: 'brand owner letter 2026-11-30', opened_by: 'olga', workflow_id: 'enforcement:enf_a' });
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });

  test('maker ≠ checker: the maker is refused, another person approves once', async () => {
    const env = new MockActivityEnvironment();
    await expect(env.run(activities.recordEnforcementDecision, { actionId: 'enf_a', decision: 'approve' as const, by: 'olga', at: new Date().toISOString() })).rejects.toMatchObject({ type: 'Forbidden', nonRetryable: true });
    // The database's CHECK holds even against a write that skips the activity.
    await expect(t.db('enforcement_actions').where({ id: 'enf_a' }).update({ approved_by: 'olga', state: 'refunding' })).rejects.toMatchObject({ constraint: 'enforcement_actions_maker_checker' });
    const at = new Date().toISOString();
    expect(await env.run(activities.recordEnforcementDecision, { actionId: 'enf_a', decision: 'approve' as const, by: 'pan', at })).toBe('refunding');
    // A retried attempt finds its own decision and changes nothing.
    expect(await env.run(activities.recordEnforcementDecision, { actionId: 'enf_a', decision: 'approve' as const, by: 'pan', at })).toBe('refunding');
    await expect(env.run(activities.recordEnforcementDecision, { actionId: 'enf_a', decision: 'reject' as const, by: 'rui', at })).rejects.toMatchObject({ type: 'Forbidden' });
  });

  test('pages refund every open order once, refusals recorded with their reason', async () => {
    const open = await activities.countOrdersToRefund({ shopId: shop.shopId });
    // 230 orders, 4 refunded by their consumers (every fiftieth) are not the action's to refund.
    expect(open).toBe(226);
    const env = new MockActivityEnvironment();
    // A page the platform paid but whose answer was lost: the same orders go again, under the same keys.
    const lost = await (await fetch(`${sandbox.url}/v1/payments/order-refunds/batch`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ refunds: [{ idempotencyKey: 'order-refund:eo-shop-enf-1-0000001', orderId: 'eo-shop-enf-1-0000001', shopId: shop.shopId, amountFen: 8919, reason: 'enforcement refund' }] }),
    })).json();
    expect(lost).toMatchObject({ refunds: [{ outcome: 'refunded', replayed: false }] });

    const first: RefundPagesResult = await env.run(activities.refundEnforcementPages, { actionId: 'enf_a', shopId: shop.shopId, afterOrderId: '', pageSize: 50, pages: 2 });
    expect(first).toMatchObject({ refunded: 98, refused: 2, afterOrderId: 'eo-shop-enf-1-0000102', done: false });
    const rest = await env.run(activities.refundEnforcementPages, { actionId: 'enf_a', shopId: shop.shopId, afterOrderId: first.afterOrderId, pageSize: 50, pages: 10 });
    expect(rest).toMatchObject({ refunded: 126, refused: 0, done: true });

    const refused = await t.db('enforcement_refunds').where({ state: 'refused' }).orderBy('order_id').select('order_id', 'reason_code');
    expect(refused).toEqual([
      { order_id: 'eo-shop-enf-1-0000007', reason_code: 'order_unknown' },
      { order_id: 'eo-shop-enf-1-0000011', reason_code: 'order_already_refunded' },
    ]);
    const byOrder = platformRefundsByOrder(sandbox.state, shop.shopId);
    expect(byOrder.size).toBe(224);
    expect([...byOrder.values()].every((n) => n === 1)).toBe(true);
    // `orders` is not ours to write: it still shows the orders open until the order feed says otherwise…
    expect(await openOrdersOf(shop.shopId)).toBe(226);
    // …yet none is left to send: each has its refund row.
    expect(await activities.countOrdersToRefund({ shopId: shop.shopId })).toBe(0);
    // The import brings the refunds the platform appended to its feed: refunded at the platform's time, under the feed's seq.
    await importOrders();
    const { rows } = (await t.db.raw(
      `SELECT count(*)::int AS n FROM orders o JOIN enforcement_refunds r ON r.order_id = o.id
        WHERE r.state = 'refunded' AND o.status = 'refunded' AND o.refunded_at = r.refunded_at AND o.feed_seq IS NOT NULL`,
    )) as { rows: Array<{ n: number }> };
    expect(rows[0]!.n).toBe(224);
    // Left open: order 7 only, which the platform does not know (order 11 came refunded through the feed).
    expect(await t.db('orders').where({ shop_id: shop.shopId }).whereNot({ status: 'refunded' }).pluck('id')).toEqual(['eo-shop-enf-1-0000007']);
    expect(await activities.countOrdersToRefund({ shopId: shop.shopId })).toBe(0);
  });

  test('a second run, or a second action on the shop, refunds nothing again', async () => {
    const env = new MockActivityEnvironment();
    const again = await env.run(activities.refundEnforcementPages, { actionId: 'enf_a', shopId: shop.shopId, afterOrderId: '', pageSize: 50, pages: 10 });
    expect(again).toEqual({ refunded: 0, refused: 0, afterOrderId: '', done: true });
    expect(platformRefundsByOrder(sandbox.state, shop.shopId).size).toBe(224);
  });

  test('a platform outage fails the attempt, retryable, and nothing is recorded for it', async () => {
    await seedEnforcedShop(t.db, { shopId: 'shop-enf-2', merchantId: 'm-enf-2' }, 20);
    onPlatformFeed(sandbox.state, await feedOrdersOf(t.db, 'shop-enf-2'));
    sandbox.state.settings.errorRate = 1;
    const env = new MockActivityEnvironment();
    try {
      await expect(env.run(activities.refundEnforcementPages, { actionId: 'enf_a', shopId: 'shop-enf-2', afterOrderId: '', pageSize: 50, pages: 1 })).rejects.toMatchObject({ type: 'PlatformUnavailable', nonRetryable: false });
    } finally {
      sandbox.state.settings.errorRate = 0;
    }
    expect(await activities.countOrdersToRefund({ shopId: 'shop-enf-2' })).toBe(20);
  });
  test('pages read several to a query are sent one by one: across reads and calls, every open order once, the cursor on the last page sent', async () => {
    const other = { shopId: 'shop-enf-4', merchantId: 'm-enf-4' };
    // 61 orders, order 50 refunded by its consumer: 60 to send, in pages of 7 read 2 at a time.
    await seedEnforcedShop(t.db, other, 61);
    const ids = (await feedOrdersOf(t.db, other.shopId)).filter((o) => o.status !== 'refunded').map((o) => o.orderId);
    onPlatformFeed(sandbox.state, await feedOrdersOf(t.db, other.shopId));
    const repo = createEnforcementRepository(t.db);
    await repo.insertAction({ id: 'enf_r', shop_id: other.shopId, merchant_id: other.merchantId, reason: 'counterfeit_goods', evidence: 'test purchase report 2026-12-02', opened_by: 'olga', workflow_id: 'enforcement:enf_r' });
    const platform = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    let reads = 0;
    const db = t.db;
    // The walk's reads counted as they reach the database.
    const countingRaw = (...args: Parameters<typeof db.raw>) => {
      if (String(args[0]).includes('o.id > ?')) reads += 1;
      return db.raw(...args);
    };
    const counting = new Proxy(db, { get: (target, key, receiver) => (key === 'raw' ? countingRaw : Reflect.get(target, key, receiver)) });
    const twoPerRead = createEnforcementActivities({ db: counting, platform, callTries: 1, retryDelayMs: 0, pagesPerRead: 2 });
    const env = new MockActivityEnvironment();
    const input = { actionId: 'enf_r', shopId: other.shopId, pageSize: 7, pages: 5 };
    const first: RefundPagesResult = await env.run(twoPerRead.refundEnforcementPages, { ...input, afterOrderId: '' });
    // 5 pages in 3 reads (2, 2, 1), none read beyond what the call sends.
    expect(first).toEqual({ refunded: 35, refused: 0, afterOrderId: ids[34], done: false });
    expect(reads).toBe(3);
    const second = await env.run(twoPerRead.refundEnforcementPages, { ...input, afterOrderId: first.afterOrderId });
    expect(second).toEqual({ refunded: 25, refused: 0, afterOrderId: ids[59], done: true });
    const byOrder = platformRefundsByOrder(sandbox.state, other.shopId);
    expect([...byOrder.keys()].sort()).toEqual(ids);
    expect([...byOrder.values()].every((n) => n === 1)).toBe(true);
    expect(await activities.countOrdersToRefund({ shopId: other.shopId })).toBe(0);
  });
  test('a call the platform refuses for good (400) fails for ops with what was recorded before; the row waits in needs_attention; the retry goes on after it', async () => {
    const other = { shopId: 'shop-enf-3', merchantId: 'm-enf-3' };
    await seedEnforcedShop(t.db, other, 30);
    const feed = await feedOrdersOf(t.db, other.shopId);
    onPlatformFeed(sandbox.state, feed);
    const repo = createEnforcementRepository(t.db);
    await repo.insertAction({ id: 'enf_c', shop_id: other.shopId, merchant_id: other.merchantId, reason: 'counterfeit_goods', evidence: 'test purchase report 2026-12-01', opened_by: 'olga', workflow_id: 'enforcement:enf_c' });
    await repo.decide('enf_c', 'approve', 'pan', new Date());
    // The second batch goes out malformed (a negative amount): the sandbox answers it with a real 400.
    const real = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    let batches = 0;
    const platform = { ...real, orderRefundBatch: (items: Parameters<typeof real.orderRefundBatch>[0]) => real.orderRefundBatch(++batches === 2 ? items.map((i) => ({ ...i, amountFen: -1 })) : items) };
    const refusing = createEnforcementActivities({ db: t.db, platform, callTries: 3, retryDelayMs: 0 });
    const input = { actionId: 'enf_c', shopId: other.shopId, afterOrderId: '', pageSize: 10, pages: 3 };
    const tenth = feed.map((o) => o.orderId).sort()[9]!;
    await expect(new MockActivityEnvironment().run(refusing.refundEnforcementPages, input)).rejects.toMatchObject({
      type: 'PlatformRefusalNeedsOps',
      nonRetryable: true,
      message: expect.stringContaining('failed with 400'),
      details: [{ refunded: 10, refused: 0, afterOrderId: tenth }],
    });
    // Not tried again within the attempt: a 400 is not cured by a retry.
    expect(batches).toBe(2);

    await refusing.setEnforcementAttention({ actionId: 'enf_c', step: 'refundEnforcementPages', error: 'POST /v1/payments/order-refunds/batch failed with 400\u0000', since: '2026-12-07T10:00:00.000Z' });
    expect(await t.db('enforcement_actions').where({ id: 'enf_c' }).first()).toMatchObject({
      state: 'needs_attention',
      attention_step: 'refundEnforcementPages',
      attention_error: 'POST /v1/payments/order-refunds/batch failed with 400',
      attention_since: new Date('2026-12-07T10:00:00.000Z'),
    });
    await expect(t.db('enforcement_actions').where({ id: 'enf_c' }).update({ attention_step: null })).rejects.toMatchObject({ constraint: 'enforcement_actions_attention_check' });
    await refusing.setEnforcementState({ actionId: 'enf_c', state: 'refunding', at: '2026-12-07T10:05:00.000Z' });
    expect(await t.db('enforcement_actions').where({ id: 'enf_c' }).first()).toMatchObject({ state: 'refunding', attention_step: null, attention_error: null, attention_since: null });

    const retried = await new MockActivityEnvironment().run(refusing.refundEnforcementPages, { ...input, afterOrderId: tenth });
    expect(retried).toMatchObject({ refunded: 20, refused: 0, done: true });
    expect([...platformRefundsByOrder(sandbox.state, other.shopId).values()]).toEqual(Array(30).fill(1));
    await importOrders();
    expect(await openOrdersOf(other.shopId)).toBe(0);
  });

  test('action refunds → order import → orders refunded → a settled order becomes a refund line of the next statement', async () => {
    const settled = { shopId: 'shop-enf-settle', merchantId: 'm-enf-settle-1' };
    const settle = (period: string) => createStatementRepository(t.db).settleMerchantRange(period, 'm-enf-settle-', 'm-enf-settle-~', { unionFen: 10_000, shopFen: 10_000 });
    // Ten orders paid and received in October (the tenth paid, not received), as the platform's feed has them.
    await seedEnforcedShop(t.db, settled, 10, { paidAt: '2026-10-02T02:00:00Z', receivedAt: '2026-10-10T04:00:00Z' });
    onPlatformFeed(sandbox.state, await feedOrdersOf(t.db, settled.shopId));
    await importOrders();
    const october = await settle('2026-10');
    expect(october.totals).toMatchObject({ statements: 1, refundsFen: 0 });
    expect(Number((await t.db('orders').where({ shop_id: settled.shopId }).whereNotNull('settled_period').count({ n: '*' }))[0]!.n)).toBe(9);

    const repo = createEnforcementRepository(t.db);
    await repo.insertAction({ id: 'enf_d', shop_id: settled.shopId, merchant_id: settled.merchantId, reason: 'forged_brand_authorisation', evidence: 'brand owner letter 2026-12-01', opened_by: 'olga', workflow_id: 'enforcement:enf_d' });
    await repo.decide('enf_d', 'approve', 'pan', new Date());
    expect(await new MockActivityEnvironment().run(activities.refundEnforcementPages, { actionId: 'enf_d', shopId: settled.shopId, afterOrderId: '', pageSize: 50, pages: 3 })).toMatchObject({ refunded: 10, refused: 0, done: true });
    expect(await openOrdersOf(settled.shopId)).toBe(10);

    await importOrders();
    expect(await openOrdersOf(settled.shopId)).toBe(0);
    // The statement of the refunds' month takes back what October paid for the nine settled orders.
    const refundedAt = (await t.db('enforcement_refunds').where({ action_id: 'enf_d' }).max({ at: 'refunded_at' }))[0]!.at as Date;
    const refundMonth = new Date(refundedAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 7);
    const next = await settle(refundMonth);
    expect(next.totals).toMatchObject({ statements: 1, gmvFen: 0, refundsFen: october.totals.netFen });
    expect(october.totals.netFen).toBeGreaterThan(0);
    expect(await t.db('orders').where({ shop_id: settled.shopId }).whereNotNull('settled_period').pluck('refund_settled_period')).toEqual(Array(9).fill(refundMonth));
  });
});
