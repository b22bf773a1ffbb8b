import { ApplicationFailure } from '@temporalio/common';
import type { PlatformClient } from '../../platform/types';
import { closureStateQuery, closureWorkflowId, type ClosureState } from '../../workflows/shop-closure.defs';
import { createShopService, type ShopService } from '../../api/shops/service';
import { createLedger, topUp } from '../../db/repositories/ledger';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop, ops, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;

/** The first refund is paid by the platform, then the activity fails as if the worker lost the answer. */
function loseFirstRefundAnswer(counter: { refundsAttempted: number }) {
  return (platform: PlatformClient): PlatformClient => ({
    ...platform,
    async refund(input, key) {
      const paid = await platform.refund(input, key);
      counter.refundsAttempted += 1;
      if (counter.refundsAttempted === 1) throw ApplicationFailure.retryable('connection reset after the refund was paid', 'PlatformUnavailable');
      return paid;
    },
  });
}

describe('shop closure workflow (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  const counter = { refundsAttempted: 0 };
  beforeAll(async () => {
    stack = await startStack({}, { wrapPlatform: loseFirstRefundAnswer(counter) });
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const closureState = (shopId: string, done: (s: ClosureState) => boolean) =>
    eventually(() => stack.env.client.workflow.getHandle(closureWorkflowId(shopId)).query(closureStateQuery), done);

  test('waits for the after-sales window of an order, then refunds both deposits exactly once and closes the shop', async () => {
    const merchantId = 'm-closing';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'promotion_deposit', amountFen: 60_000 }) }, me);
    const now = await stack.env.currentTimeMs();
    // Receipt confirmed a day ago: 7 days no-reason return + 15 days for disputes → 21 more days.
    platformShop(stack, shopId).orders = [{ orderId: 'o-1', status: 'finished', receiptConfirmedAt: new Date(now - DAY).toISOString() }];

    await shops.requestClosure(shopId, me);
    const waiting = await closureState(shopId, (s) => s.blockers !== null);
    expect(waiting.status).toBe('waiting');
    expect(waiting.blockers).toEqual({ openOrders: 0, openViolations: 0, afterSalesUntil: new Date(now + 21 * DAY).toISOString() });
    // Listings and sales stop at once.
    expect([...platformShop(stack, shopId).restrictions].sort()).toEqual(['stop_listing', 'stop_sales']);
    expect((await shops.closure(shopId, me)).status).toBe('waiting');

    await stack.env.sleep(20 * DAY);
    expect((await stack.env.client.workflow.getHandle(closureWorkflowId(shopId)).query(closureStateQuery)).status).toBe('waiting');
    expect(platformShop(stack, shopId).refunds).toHaveLength(0);

    // Just past the window: once no workflow is left running, the test server stops
    // skipping and the rest of a sleep passes in real time.
    await stack.env.sleep(DAY + 1_000);
    const closed = await closureState(shopId, (s) => s.status === 'closed');
    expect(closed.refundedFen).toEqual({ deposit: 50_000, promotionDeposit: 60_000, heldFen: { deposit: 0, promotionDeposit: 0 } });

    // The deposit refund was paid, its answer lost, the activity retried: the platform paid once.
    expect(counter.refundsAttempted).toBe(3);
    expect(platformShop(stack, shopId).refunds.map((r) => [r.account, r.amountFen])).toEqual([
      ['deposit', 50_000],
      ['promotion_deposit', 60_000],
    ]);
    const refunds = await stack.db('ledger_transactions').where({ shop_id: shopId, kind: 'refund' });
    expect(refunds).toHaveLength(2);
    expect(await stack.db('shops').where({ id: shopId }).first()).toMatchObject({ status: 'closed' });
    expect(await shops.deposit(shopId, ops)).toMatchObject({ balanceFen: 0, promotionBalanceFen: 0, shopStatus: 'closed' });
    expect((await shops.closure(shopId, me)).status).toBe('closed');
    await eventually(() => stack.env.client.workflow.getHandle(`deposit:${shopId}`).describe(), (d) => d.status.name === 'COMPLETED');
    await expect(shops.requestClosure(shopId, me)).rejects.toMatchObject({ status: 409 });
    await expectLedgerWhole(stack, shopId);
  });

  test('a closure cancelled before its refund brings the shop back', async () => {
    const merchantId = 'm-changed-mind';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    platformShop(stack, shopId).orders = [{ orderId: 'o-2', status: 'open', receiptConfirmedAt: null }];

    await shops.requestClosure(shopId, me);
    await closureState(shopId, (s) => s.blockers?.openOrders === 1);
    await expect(shops.requestClosure(shopId, me)).rejects.toMatchObject({ status: 409 });
    await depositState(stack, shopId, (s) => s.status === 'closing');

    const cancelled = await shops.cancelClosure(shopId, me);
    expect(cancelled.status).toBe('cancelled');
    expect([...platformShop(stack, shopId).restrictions]).toEqual([]);
    expect(await stack.db('shop_restrictions').where({ shop_id: shopId })).toEqual([]);
    expect(await stack.db('shops').where({ id: shopId }).first()).toMatchObject({ status: 'open' });
    expect(platformShop(stack, shopId).refunds).toHaveLength(0);
    await depositState(stack, shopId, (s) => s.status === 'open');
    expect(await shops.closure(shopId, me)).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) });
    await expect(shops.cancelClosure(shopId, me)).rejects.toMatchObject({ status: 409 });
    await expectLedgerWhole(stack, shopId);
  });

  test('promotion deposit: excess withdrawal refused with reasons, allowed once the conditions hold; closing promotion refunds the rest', async () => {
    const merchantId = 'm-promo';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'promotion_deposit', amountFen: 80_000 }) }, me);
    await stack.db('shop_categories').insert({ shop_id: shopId, category: 'beauty', status: 'open' });

    const refused = shops.withdrawPromotionExcess(shopId, me);
    await expect(refused).rejects.toMatchObject({ status: 409 });
    await expect(shops.withdrawPromotionExcess(shopId, me)).rejects.toMatchObject({ extra: { reasons: [expect.stringContaining('beauty')] } });

    await stack.db('shop_categories').where({ shop_id: shopId, category: 'beauty' }).update({ status: 'closed' });
    const withdrawn = await shops.withdrawPromotionExcess(shopId, me);
    expect(withdrawn).toEqual({ done: true, refundedFen: 30_000, deductedFen: 0 });

    // Nothing holds it back (the wait is in promotion-closure.test.ts): closed and refunded at once.
    await shops.closePromotion(shopId, me);
    const closedPromotion = await eventually(() => shops.promotionClosure(shopId, me), (s) => s.status === 'closed');
    expect(closedPromotion).toMatchObject({ refundedFen: 50_000, deductedFen: 0, stillOwedFen: 0 });
    await expect(shops.closePromotion(shopId, me)).rejects.toMatchObject({ status: 409 });
    expect(platformShop(stack, shopId).refunds.map((r) => r.amountFen)).toEqual([30_000, 50_000]);
    expect((await shops.deposit(shopId, me)).promotionBalanceFen).toBe(0);
    await expectLedgerWhole(stack, shopId);
  });

  test('a balance no payment stands behind is not reported as refunded: the closure and the deposit process show it held', async () => {
    const merchantId = 'm-held';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    // Credited before payments were checked: a caller's claim with no payment to refund it to.
    await createLedger(stack.db).post({ idempotencyKey: `topup:${shopId}:legacy`, shopId, kind: 'top_up', reason: 'legacy top-up', actor: 'test', entries: topUp('deposit', 7_000) });

    await shops.requestClosure(shopId, me);
    const closed = await closureState(shopId, (s) => s.status === 'closed');
    expect(closed.refundedFen).toEqual({ deposit: 50_000, promotionDeposit: 0, heldFen: { deposit: 7_000, promotionDeposit: 0 } });
    expect(platformShop(stack, shopId).refunds.map((r) => r.amountFen)).toEqual([50_000]);
    expect(await createLedger(stack.db).balance(shopId, 'deposit')).toBe(7_000);
    expect((await stack.db('shop_closures').where({ shop_id: shopId }).first()).details).toMatchObject({ held: { deposit: 7_000, promotionDeposit: 0 } });
    await depositState(stack, shopId, (s) => s.status === 'closed' && s.balanceFen === 7_000);
    await expectLedgerWhole(stack, shopId);
  });
});
