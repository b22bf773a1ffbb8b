import { Client } from '@temporalio/client';
import { lastNaturalMonth } from '../../domain/deposit';
import { depositWorkflowId, topUpUpdate } from '../../workflows/deposit-account.defs';
import { REASSESSMENT_WORKFLOW_TYPE } from '../../workflows/deposit-reassessment.defs';
import { BUSINESS_STATUS } from '../../workflows/search-attributes';
import { depositState, expectLedgerWhole, finance, merchantOf, openShop, platformShop } from '../support/shops';
import { createShopService, type ShopService } from '../../api/shops/service';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;
const REQUIRED = 50_000; // [default] individual shop: 500 CNY

describe('deposit account workflow (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  beforeAll(async () => {
    stack = await startStack();
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const restrictionsInDb = async (shopId: string) =>
    (await stack.db('shop_restrictions').where({ shop_id: shopId, source: 'deposit' }).orderBy('restriction')).map((r) => r.restriction);
  const inForceOnPlatform = (shopId: string) => [...platformShop(stack, shopId).restrictions].sort();

  test('a new shop waits for its initial deposit, then a deduction below the requirement walks the ladder day by day', async () => {
    const merchantId = 'm-ladder';
    const { shopId } = await openShop(stack, merchantId);
    const me = merchantOf(merchantId);
    expect(await depositState(stack, shopId)).toMatchObject({ requiredFen: REQUIRED, balanceFen: 0, funded: false, episode: null });

    const paymentId = await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: REQUIRED });
    const first = await shops.topUp(shopId, { paymentId }, me);
    expect(first).toMatchObject({ replayed: false, balanceFen: REQUIRED, creditedFen: REQUIRED, account: 'deposit' });
    const again = await shops.topUp(shopId, { paymentId, amountFen: REQUIRED }, me);
    expect(again).toMatchObject({ replayed: true, balanceFen: REQUIRED, transactionId: first.transactionId });
    await depositState(stack, shopId, (s) => s.funded);

    platformShop(stack, shopId).availableProceedsFen = 5_000;
    const started = await stack.env.currentTimeMs();
    await shops.deduct(shopId, { account: 'deposit', amountFen: 20_000, reason: 'violation fine', reference: 'fine-1' }, finance);

    // At once: the merchant is told, and what proceeds there are move into the deposit.
    const short = await depositState(stack, shopId, (s) => s.episode?.stepsDone.length === 2);
    expect(short.balanceFen).toBe(35_000);
    expect(platformShop(stack, shopId).proceedsTransfers).toHaveLength(1);
    expect(stack.sandbox.state.notifications.filter((n) => n.merchantId === merchantId).map((n) => n.template)).toContain('deposit_shortfall');
    expect(inForceOnPlatform(shopId)).toEqual([]);
    const described = await stack.env.client.workflow.getHandle(depositWorkflowId(shopId)).describe();
    expect(described.typedSearchAttributes.get(BUSINESS_STATUS)).toBe('shortfall');

    const expectations: Array<[number, string[]]> = [
      [2, []],
      [3, ['close_cart']],
      [6, ['close_cart']],
      [7, ['close_cart', 'stop_listing']],
      [10, ['close_cart', 'stop_listing', 'stop_sales']],
      [15, ['close_cart', 'restrict_withdrawals', 'stop_listing', 'stop_sales']],
    ];
    for (const [day, restrictions] of expectations) {
      await stack.env.sleep(started + day * DAY + 60_000 - (await stack.env.currentTimeMs()));
      await depositState(stack, shopId, (s) => s.restrictions.length === restrictions.length);
      expect(inForceOnPlatform(shopId)).toEqual(restrictions);
      expect(await restrictionsInDb(shopId)).toEqual(restrictions);
    }

    // A partial top-up leaves the shop short and restricted.
    const partial = await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 5_000 }) }, me);
    expect(partial.balanceFen).toBe(40_000);
    expect((await depositState(stack, shopId)).episode).not.toBeNull();
    expect(inForceOnPlatform(shopId)).toHaveLength(4);

    // One that makes it whole lifts every restriction at once and closes the episode.
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 10_000 }) }, me);
    await depositState(stack, shopId, (s) => s.episode === null);
    expect(inForceOnPlatform(shopId)).toEqual([]);
    expect(await restrictionsInDb(shopId)).toEqual([]);
    const [episode] = await stack.db('deposit_episodes').where({ shop_id: shopId });
    expect(episode).toMatchObject({ end_reason: 'restored', required_fen: REQUIRED, balance_at_start_fen: 30_000 });
    const steps = await stack.db('deposit_episode_steps').where({ episode_id: episode.id }).orderBy('at');
    expect(steps.map((s) => s.step)).toEqual(['notify', 'transfer_proceeds', 'close_cart', 'stop_listing', 'stop_sales', 'restrict_withdrawals']);

    const view = await shops.deposit(shopId, me);
    expect(view).toMatchObject({ balanceFen: REQUIRED, shortfallFen: 0, restrictions: [], openEpisode: null });
    expect(view.recentLines.map((l) => l.kind)).toEqual(['top_up', 'top_up', 'proceeds_transfer', 'deduction', 'top_up']);
    await expectLedgerWhole(stack, shopId);
  });

  test('a deduction larger than the balance is refused and changes nothing', async () => {
    const merchantId = 'm-overdraw';
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: REQUIRED }) }, merchantOf(merchantId));
    await expect(
      shops.deduct(shopId, { account: 'deposit', amountFen: REQUIRED + 1, reason: 'too much', reference: 'big' }, finance),
    ).rejects.toMatchObject({ status: 409 });
    expect((await shops.deposit(shopId, finance)).balanceFen).toBe(REQUIRED);
    await expectLedgerWhole(stack, shopId);
  });

  test("the monthly re-assessment raises the requirement from last month's sales and opens a shortfall", async () => {
    const merchantId = 'm-reassess';
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: REQUIRED }) }, merchantOf(merchantId));
    await depositState(stack, shopId, (s) => s.funded);

    const { month } = lastNaturalMonth(new Date(await stack.env.currentTimeMs()));
    platformShop(stack, shopId).monthlySales = { [month]: { apparel: 15_000_000 } }; // 150,000 CNY: the 2,000 CNY tier
    const result = await new Client({ connection: stack.env.connection }).workflow.execute(REASSESSMENT_WORKFLOW_TYPE, {
      workflowId: `reassess-${month}-test`,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ month }],
    });
    expect(result).toMatchObject({ month, changed: expect.any(Number) });
    expect(result.changed).toBeGreaterThanOrEqual(1);

    // The episode shows in the state as it starts, before its first step (notify) is recorded.
    const raised = await depositState(stack, shopId, (s) => s.requiredFen === 250_000 && (s.episode?.stepsDone.length ?? 0) >= 1);
    expect(raised.episode!.stepsDone[0]).toBe('notify');
    const view = await shops.deposit(shopId, finance);
    expect(view.requirement).toMatchObject({ requiredFen: 250_000, assessedForMonth: month, parts: { baseFen: 50_000, gmvTierFen: 200_000 } });
    expect(view.shortfallFen).toBe(200_000);
    await expectLedgerWhole(stack, shopId);
  });
});

describe('deposit account history (time-skipping)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('continues as new once its history passes the limit, carrying balances, requirement and status', async () => {
    const shopId = 'shop-m-long-lived';
    await stack.db('merchants').insert({ id: 'm-long-lived', entity_type: 'individual', legal_name: '王五', verification_status: 'verified' });
    await stack.db('shops').insert({ id: shopId, merchant_id: 'm-long-lived', shop_type: 'individual', opened_by_case_id: 'vc_test' });
    const handle = await stack.env.client.workflow.start('depositAccount', {
      workflowId: depositWorkflowId(shopId),
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ shopId, merchantId: 'm-long-lived', shopType: 'individual', continueAsNewAfterEvents: 40 }],
    });
    const firstRunId = handle.firstExecutionRunId;
    for (let i = 1; i <= 8; i++) {
      const paymentId = await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 10_000 });
      await stack.env.client.workflow.getHandle(depositWorkflowId(shopId)).executeUpdate(topUpUpdate, { args: [{ paymentId, actor: 'test' }] });
    }
    const state = await depositState(stack, shopId, (s) => s.balanceFen === 80_000);
    expect(state).toMatchObject({ requiredFen: REQUIRED, funded: true, status: 'open', episode: null });
    const latest = await stack.env.client.workflow.getHandle(depositWorkflowId(shopId)).describe();
    expect(latest.runId).not.toBe(firstRunId);
    expect(latest.status.name).toBe('RUNNING');
    expect(latest.historyLength).toBeLessThan(60);
    await expectLedgerWhole(stack, shopId);
  });
});
