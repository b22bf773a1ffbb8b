import { createShopService, type ShopService } from '../../api/shops/service';
import { createLedger } from '../../db/repositories/ledger';
import { createSettlementQueries } from '../../db/repositories/settlement/queries';
import { createStatementRepository } from '../../db/repositories/settlement/statements';
import { periodOf } from '../../domain/settlement';
import { closureStateQuery, closureWorkflowId, type ClosureState } from '../../workflows/shop-closure.defs';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';
import { caseState, openViolation } from '../support/violations';

const DAY = 24 * 60 * 60 * 1000;
const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };
// An individual shop's requirement (500 CNY) and a serious violation's fine (2,000 CNY).
const REQUIRED = 50_000;
const FINE = 200_000;

const previousPeriod = (instant: number) => {
  const [year, month] = periodOf(new Date(instant)).split('-').map(Number) as [number, number];
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
};

// What the merchant owes the platform is money too: never dropped, collected before any refund.
describe('what the merchant owes (time-skipping)', () => {
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
  const closed = (shopId: string) =>
    eventually(() => stack.env.client.workflow.getHandle(closureWorkflowId(shopId)).query(closureStateQuery), (s: ClosureState) => s.status === 'closed');
  const receivableOf = async (shopId: string) => (await createLedger(stack.db).balances(shopId)).receivable;

  /** A serious violation fines 2,000 CNY; waits until the case has applied it. */
  async function fined(merchantId: string, shopId: string) {
    const c = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'serious' });
    await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    await eventually(() => stack.db('violation_cases').where({ id: c.caseId }).first(), (r) => r.fine_deducted_fen !== null && Number(r.fine_deducted_fen) > 0);
    return c.caseId;
  }

  test('a fine above the deposit is owed in full; a top-up pays what is owed first, and only the whole of it ends the shortfall', async () => {
    const merchantId = 'm-owes-fine';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await topUp(shopId, merchantId, 'deposit', 100_000);
    await depositState(stack, shopId, (s) => s.funded);

    const caseId = await fined(merchantId, shopId);
    // 1,000 CNY from the deposit, 1,000 CNY owed: the fine is taken whole.
    expect(await stack.db('violation_cases').where({ id: caseId }).first()).toMatchObject({ fine_deducted_fen: FINE });
    await depositState(stack, shopId, (s) => s.episode !== null && s.balanceFen === 0);
    const view = await shops.deposit(shopId, me);
    expect(view).toMatchObject({ balanceFen: 0, owedFen: 100_000, shortfallFen: REQUIRED + 100_000 });
    expect(await receivableOf(shopId)).toBe(-100_000);

    // Enough to restore the requirement alone: it pays what is owed, the deposit stays short.
    await topUp(shopId, merchantId, 'deposit', REQUIRED);
    const partly = await depositState(stack, shopId, (s) => s.owedFen === 50_000);
    expect(partly).toMatchObject({ balanceFen: 0, owedFen: 50_000 });
    expect(partly.episode).not.toBeNull();
    expect(await shops.deposit(shopId, me)).toMatchObject({ balanceFen: 0, owedFen: 50_000, shortfallFen: REQUIRED + 50_000 });

    // Another 24 h: the ladder goes on asking for the rest.
    await stack.env.sleep(DAY);
    expect((await shops.deposit(shopId, me)).openEpisode).not.toBeNull();

    await topUp(shopId, merchantId, 'deposit', REQUIRED + 50_000);
    const whole = await depositState(stack, shopId, (s) => s.episode === null);
    expect(whole).toMatchObject({ balanceFen: REQUIRED, owedFen: 0 });
    expect(await shops.deposit(shopId, me)).toMatchObject({ balanceFen: REQUIRED, owedFen: 0, shortfallFen: 0, openEpisode: null });
    await expectLedgerWhole(stack, shopId);
  });

  test('closure: a fine still owed is taken from the promotion deposit before it is refunded', async () => {
    const merchantId = 'm-owes-then-closes';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await topUp(shopId, merchantId, 'deposit', 100_000);
    await topUp(shopId, merchantId, 'promotion_deposit', 150_000);
    await depositState(stack, shopId, (s) => s.funded);
    const caseId = await fined(merchantId, shopId);
    await depositState(stack, shopId, (s) => s.owedFen === 100_000);
    // Past the serious case's appeal window (3 working days) nothing holds the closure back.
    await stack.env.sleep(7 * DAY);
    await caseState(stack, caseId, (s) => s.status === 'in_effect');

    await shops.requestClosure(shopId, me);
    const state = await closed(shopId);

    expect(state).toMatchObject({ owedFen: 0, refundedFen: { deposit: 0, promotionDeposit: 50_000 }, stillOwedFen: 0 });
    expect(platformShop(stack, shopId).refunds.map((r) => [r.account, r.amountFen])).toEqual([['promotion_deposit', 50_000]]);
    expect(await createLedger(stack.db).balances(shopId)).toMatchObject({ deposit: 0, promotion_deposit: 0, receivable: 0, platform_income: FINE });
    await expectLedgerWhole(stack, shopId);
  });

  // Last: an env.sleep placed after it ran in real time instead of skipping (cause not found yet).
  test('closure: a final statement owing more than the main deposit takes the rest from the promotion deposit, and what is left stays owed', async () => {
    const merchantId = 'm-owes-closure';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await topUp(shopId, merchantId, 'deposit', 50_000);
    await topUp(shopId, merchantId, 'promotion_deposit', 60_000);
    const now = await stack.env.currentTimeMs();
    const earlier = previousPeriod(now);
    // Settled and paid last month: 200,000 − 20,000 − 6,000 = 174,000 fen; refunded since.
    await stack.db('orders').insert({
      id: 'oc-1',
      merchant_id: merchantId,
      shop_id: shopId,
      category: 'apparel',
      amount_fen: 200_000,
      status: 'receipt_confirmed',
      paid_at: new Date(Date.parse(`${earlier}-07T04:00:00Z`)),
      receipt_confirmed_at: new Date(Date.parse(`${earlier}-10T04:00:00Z`)),
    });
    const statementRepo = createStatementRepository(stack.db);
    const settlementQueries = createSettlementQueries(stack.db);
    await statementRepo.settleMerchantRange(earlier, `${merchantId.slice(0, -1)}`, merchantId, THRESHOLDS);
    expect(await settlementQueries.statement(merchantId, earlier)).toMatchObject({ payoutFen: 174_000 });
    await stack.db('orders').where({ id: 'oc-1' }).update({ status: 'refunded', refunded_at: new Date(now - 1_000) });

    await shops.requestClosure(shopId, me);
    const state = await closed(shopId);

    // 174,000 owed: 50,000 from the deposit, 60,000 from the promotion deposit, 64,000 still owed.
    expect(state).toMatchObject({ owedFen: 174_000, refundedFen: { deposit: 0, promotionDeposit: 0 }, stillOwedFen: 64_000 });
    expect(platformShop(stack, shopId).refunds).toEqual([]);
    const balances = await createLedger(stack.db).balances(shopId);
    expect(balances).toMatchObject({ deposit: 0, promotion_deposit: 0, receivable: -64_000, platform_income: 174_000 });
    const owedLine = await createLedger(stack.db).findByKey(`closure:${state.closureId}:owed`);
    expect(owedLine?.entries).toEqual(
      expect.arrayContaining([
        { account: 'deposit', amountFen: -50_000 },
        { account: 'promotion_deposit', amountFen: -60_000 },
        { account: 'receivable', amountFen: -64_000 },
        { account: 'platform_income', amountFen: 174_000 },
      ]),
    );
    expect(await shops.deposit(shopId, me)).toMatchObject({ owedFen: 64_000 });
    await expectLedgerWhole(stack, shopId);
  });
});
