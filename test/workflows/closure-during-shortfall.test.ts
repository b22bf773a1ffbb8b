import { createShopService, type ShopService } from '../../api/shops/service';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop, ops, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;

// A stack of its own: after other closures in the same test server, its long sleep stalls
// (the time-skipping server then lets the rest of the sleep pass in real time).
describe('closure and deposit ladder together (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  beforeAll(async () => {
    stack = await startStack();
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a closure during a shortfall pauses the episode: its restrictions stay, and cancelling resumes it on its own schedule', async () => {
    const merchantId = 'm-short-closing';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);
    await shops.deduct(shopId, { account: 'deposit', amountFen: 10_000, reason: 'fine', reference: 'f-1' }, ops);
    const started = await depositState(stack, shopId, (s) => s.episode !== null);
    const episodeId = started.episode!.id;
    await stack.env.sleep(7 * DAY + 60_000);
    await depositState(stack, shopId, (s) => s.restrictions.length === 2);
    expect([...platformShop(stack, shopId).restrictions].sort()).toEqual(['close_cart', 'stop_listing']);

    // Day 7: the merchant asks to close (an open order keeps the closure waiting).
    platformShop(stack, shopId).orders = [{ orderId: 'o-3', status: 'open', receiptConfirmedAt: null }];
    await shops.requestClosure(shopId, me);
    const closing = await depositState(stack, shopId, (s) => s.status === 'closing');
    // The episode is paused, not ended: the ladder's restrictions stay beside the closure's.
    expect(closing.episode).toMatchObject({ id: episodeId, stepsDone: ['notify', 'transfer_proceeds', 'close_cart', 'stop_listing'] });
    await eventually(async () => [...platformShop(stack, shopId).restrictions].sort(), (r) => r.join() === 'close_cart,stop_listing,stop_sales');

    // Day 11: no step ran while the shop was closing.
    await stack.env.sleep(4 * DAY);
    expect((await depositState(stack, shopId)).episode!.stepsDone).toHaveLength(4);

    await shops.cancelClosure(shopId, me);
    // The same episode, days counted from its real start: day 10's stop on sales is overdue and runs at once.
    const resumed = await depositState(stack, shopId, (s) => s.status === 'open' && s.episode?.stepsDone.includes('stop_sales') === true);
    expect(resumed.episode).toMatchObject({ id: episodeId, startedAt: started.episode!.startedAt });
    expect(resumed.restrictions).toEqual(['close_cart', 'stop_listing', 'stop_sales']);
    await eventually(async () => [...platformShop(stack, shopId).restrictions].sort(), (r) => r.join() === 'close_cart,stop_listing,stop_sales');
    expect(await stack.db('deposit_episodes').where({ shop_id: shopId })).toHaveLength(1);

    // Day 15: withdrawals are restricted; a second closure keeps them restricted while the deposit is short.
    await stack.env.sleep(4 * DAY);
    await depositState(stack, shopId, (s) => s.restrictions.includes('restrict_withdrawals'));
    await shops.requestClosure(shopId, me);
    await depositState(stack, shopId, (s) => s.status === 'closing');
    await stack.env.sleep(DAY);
    expect([...platformShop(stack, shopId).restrictions]).toContain('restrict_withdrawals');
    const rows = await stack.db('shop_restrictions').where({ shop_id: shopId, restriction: 'restrict_withdrawals' });
    expect(rows.map((r: { source: string }) => r.source)).toEqual(['deposit']);

    // Paid up during the closure: the episode ends, only the closure's own stops remain.
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 10_000 }) }, me);
    await depositState(stack, shopId, (s) => s.episode === null);
    await eventually(async () => [...platformShop(stack, shopId).restrictions].sort(), (r) => r.join() === 'stop_listing,stop_sales');
    expect((await stack.db('deposit_episodes').where({ id: episodeId }).first()).end_reason).toBe('restored');
    await expectLedgerWhole(stack, shopId);
  });

});
