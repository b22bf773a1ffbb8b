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

  test("a closure during a shortfall keeps the stop on sales both hold, and cancelling it hands the shop back to the deposit ladder", async () => {
    const merchantId = 'm-short-closing';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);
    await shops.deduct(shopId, { account: 'deposit', amountFen: 10_000, reason: 'fine', reference: 'f-1' }, ops);
    await depositState(stack, shopId, (s) => s.episode !== null);
    await stack.env.sleep(7 * DAY + 60_000);
    await depositState(stack, shopId, (s) => s.restrictions.length === 2);
    expect([...platformShop(stack, shopId).restrictions].sort()).toEqual(['close_cart', 'stop_listing']);

    platformShop(stack, shopId).orders = [{ orderId: 'o-3', status: 'open', receiptConfirmedAt: null }];
    await shops.requestClosure(shopId, me);
    await depositState(stack, shopId, (s) => s.status === 'closing' && s.episode === null);
    // The ladder's episode ended: its cart closure is lifted, the stop on listing the closure also holds is not.
    await eventually(async () => [...platformShop(stack, shopId).restrictions].sort(), (r) => r.join() === 'stop_listing,stop_sales');

    await shops.cancelClosure(shopId, me);
    // Back to the ladder: still short, so a new episode starts and tells the merchant again.
    const reopened = await depositState(stack, shopId, (s) => s.status === 'open' && s.episode?.stepsDone.length === 2);
    expect(reopened.episode!.stepsDone).toEqual(['notify', 'transfer_proceeds']);
    expect([...platformShop(stack, shopId).restrictions]).toEqual([]);
    await expectLedgerWhole(stack, shopId);
  });

});
