import { createShopService, type ShopService } from '../../api/shops/service';
import { createSettlementQueries } from '../../db/repositories/settlement/queries';
import { createStatementRepository } from '../../db/repositories/settlement/statements';
import { periodOf } from '../../domain/settlement';
import { closureStateQuery, closureWorkflowId, type ClosureState } from '../../workflows/shop-closure.defs';
import { eventually } from '../support/fixtures';
import { expectLedgerWhole, merchantOf, openShop, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;
const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };

/** The month before the one `instant` falls in, Shanghai time. */
const previousPeriod = (instant: number) => {
  const [year, month] = periodOf(new Date(instant)).split('-').map(Number) as [number, number];
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
};

// The closure's final commission settlement runs the monthly statement code for one merchant.
describe('shop closure with commission to settle (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  beforeAll(async () => {
    stack = await startStack();
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const closed = (shopId: string) =>
    eventually(
      () => stack.env.client.workflow.getHandle(closureWorkflowId(shopId)).query(closureStateQuery),
      (s: ClosureState) => s.status === 'closed',
    );

  const addOrder = (merchantId: string, id: string, amountFen: number, receivedAt: number) =>
    stack.db('orders').insert({
      id,
      merchant_id: merchantId,
      shop_id: `shop-${merchantId}`,
      category: 'apparel',
      amount_fen: amountFen,
      status: 'receipt_confirmed',
      paid_at: new Date(receivedAt - 3 * DAY),
      receipt_confirmed_at: new Date(receivedAt),
    });

  test('commission below the threshold is paid out at closure, and the deposit refunded whole', async () => {
    const merchantId = 'm-close-paid';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    const now = await stack.env.currentTimeMs();
    await addOrder(merchantId, 'cp-1', 6_000, now - 1_000);

    await shops.requestClosure(shopId, me);
    const state = await closed(shopId);

    // 6,000 − 10% − 3% = 5,220 fen: under 100 CNY, a monthly statement would carry it; a final one pays it.
    const period = periodOf(new Date(now));
    expect(await createSettlementQueries(stack.db).statement(merchantId, period)).toMatchObject({
      kind: 'final',
      netFen: 5_220,
      payoutFen: 5_220,
      carriedOutFen: 0,
      owedFen: 0,
      status: 'paid',
      payoutId: `settle:${merchantId}:${period}`,
    });
    expect(stack.sandbox.state.payouts.filter((p) => p.merchantId === merchantId).map((p) => [p.period, p.amountFen])).toEqual([[period, 5_220]]);
    expect(state).toMatchObject({ owedFen: 0, refundedFen: { deposit: 50_000, promotionDeposit: 0 } });
    await expectLedgerWhole(stack, shopId);
  });

  test('a refund after settlement leaves the merchant owing: it is deducted from the deposit before the refund', async () => {
    const merchantId = 'm-close-owing';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    const now = await stack.env.currentTimeMs();
    const earlier = previousPeriod(now);
    // Settled and paid last month: 50,000 − 5,000 − 1,500 = 43,500 fen; refunded since.
    await addOrder(merchantId, 'co-1', 50_000, Date.parse(`${earlier}-10T04:00:00Z`));
    const statementRepo = createStatementRepository(stack.db);
    const settlementQueries = createSettlementQueries(stack.db);
    await statementRepo.settleMerchantRange(earlier, `${merchantId.slice(0, -1)}`, merchantId, THRESHOLDS);
    expect(await settlementQueries.statement(merchantId, earlier)).toMatchObject({ payoutFen: 43_500 });
    await stack.db('orders').where({ id: 'co-1' }).update({ status: 'refunded', refunded_at: new Date(now - 1_000) });

    await shops.requestClosure(shopId, me);
    const state = await closed(shopId);

    expect(await settlementQueries.statement(merchantId, periodOf(new Date(now)))).toMatchObject({
      kind: 'final',
      refundsFen: 43_500,
      netFen: -43_500,
      payoutFen: 0,
      owedFen: 43_500,
      status: 'carried',
    });
    expect(state).toMatchObject({ owedFen: 43_500, refundedFen: { deposit: 6_500, promotionDeposit: 0 } });
    const owed = await stack.db('ledger_transactions').where({ shop_id: shopId, kind: 'deduction' });
    expect(owed.map((t) => t.idempotency_key)).toEqual([`closure:${state.closureId}:owed`]);
    expect(platformShop(stack, shopId).refunds.map((r) => [r.account, r.amountFen])).toEqual([['deposit', 6_500]]);
    expect(stack.sandbox.state.payouts.filter((p) => p.merchantId === merchantId)).toEqual([]);
    await expectLedgerWhole(stack, shopId);
  });

  test('a wait for the after-sales window is no reason to settle early', async () => {
    // The final statement waits, like the refund, until nothing blocks the closure.
    const merchantId = 'm-close-waiting';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    const now = await stack.env.currentTimeMs();
    platformShop(stack, shopId).orders = [{ orderId: 'w-1', status: 'open', receiptConfirmedAt: null }];
    await addOrder(merchantId, 'cw-1', 20_000, now - 1_000);
    await shops.requestClosure(shopId, me);
    await eventually(
      () => stack.env.client.workflow.getHandle(closureWorkflowId(shopId)).query(closureStateQuery),
      (s: ClosureState) => s.blockers?.openOrders === 1,
    );
    expect(await stack.db('statements').where({ merchant_id: merchantId })).toEqual([]);
    await shops.cancelClosure(shopId, me);
  });
});
