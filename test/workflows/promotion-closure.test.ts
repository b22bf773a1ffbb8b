import { createShopService, type ShopService } from '../../api/shops/service';
import { createLedger } from '../../db/repositories/ledger';
import { promotionClosureStateQuery, promotionClosureWorkflowId, type PromotionClosureState } from '../../workflows/promotion-closure.defs';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';
import { caseState, openViolation } from '../support/violations';

const DAY = 24 * 60 * 60 * 1000;

// Closing third-party promotion (docs/rules.md §2): the function goes off at once, the refund
// waits for the shop-exit conditions, and what is owed is taken before the rest is refunded.
describe('closing third-party promotion (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  beforeAll(async () => {
    stack = await startStack();
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const topUp = async (shopId: string, merchantId: string, account: 'deposit' | 'promotion_deposit', amountFen: number) =>
    shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account, amountFen }) }, merchantOf(merchantId));
  const closureState = (shopId: string, done: (s: PromotionClosureState) => boolean) =>
    eventually(() => stack.env.client.workflow.getHandle(promotionClosureWorkflowId(shopId)).query(promotionClosureStateQuery), done);

  test('switched off at once; after the after-sales window and the undecided case, owed amounts are taken and the rest refunded once', async () => {
    const merchantId = 'm-promo-close';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await topUp(shopId, merchantId, 'deposit', 100_000);
    await topUp(shopId, merchantId, 'promotion_deposit', 150_000);
    await depositState(stack, shopId, (s) => s.funded);
    // A serious case fines 2,000 CNY: 1,000 from the deposit, 1,000 owed; undecided for 3 working days.
    const c = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'serious' });
    await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    await depositState(stack, shopId, (s) => s.owedFen === 100_000);
    const now = await stack.env.currentTimeMs();
    platformShop(stack, shopId).orders = [{ orderId: 'pc-1', status: 'finished', receiptConfirmedAt: new Date(now - DAY).toISOString() }];

    const asked = await shops.closePromotion(shopId, me);
    expect(asked).toMatchObject({ workflowId: promotionClosureWorkflowId(shopId), status: 'requested' });
    // Waiting is shown before its first look at the blockers: wait for that look.
    const waiting = await closureState(shopId, (s) => s.status === 'waiting' && s.blockers !== null);
    expect(waiting.blockers).toEqual({ openOrders: 0, openViolations: 1, afterSalesUntil: new Date(now + 21 * DAY).toISOString() });
    // The function is off on the platform at once; no money moved yet.
    expect([...platformShop(stack, shopId).restrictions]).toContain('disable_third_party_promotion');
    expect(platformShop(stack, shopId).refunds).toEqual([]);
    expect(await shops.promotionClosure(shopId, me)).toMatchObject({ status: 'waiting' });
    // Asked again while it runs: the same process, never a second refund.
    await expect(shops.closePromotion(shopId, me)).rejects.toMatchObject({ status: 409 });

    await stack.env.sleep(22 * DAY);
    const done = await closureState(shopId, (s) => s.status === 'closed');
    expect(done).toMatchObject({ deductedFen: 100_000, refundedFen: 50_000, stillOwedFen: 0 });
    expect(platformShop(stack, shopId).refunds.map((r) => [r.account, r.amountFen])).toEqual([['promotion_deposit', 50_000]]);
    expect(await createLedger(stack.db).balances(shopId)).toMatchObject({ promotion_deposit: 0, receivable: 0 });
    await depositState(stack, shopId, (s) => s.promotionClosed && s.promotionBalanceFen === 0 && s.owedFen === 0);
    expect(await shops.deposit(shopId, me)).toMatchObject({ promotionBalanceFen: 0, owedFen: 0 });
    await expect(shops.closePromotion(shopId, me)).rejects.toMatchObject({ status: 409 });
    await expectLedgerWhole(stack, shopId);
  });
});
