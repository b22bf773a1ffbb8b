import { expectLedgerWhole, openShop, platformShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, type Api } from './http';

/**
 * Issue 9, item 1 as reported: a merchant claimed a 100,000,000 CNY promotion top-up with a
 * made-up reference, was credited at once, and the excess withdrawal paid it out.
 */
describe('no money from a claim', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a top-up naming no confirmed payment credits nothing, and the excess withdrawal pays nothing out', async () => {
    const owner = 'm-claim';
    const { shopId } = await openShop(stack, owner);
    const claim = await api.post(`/v1/shops/${shopId}/deposit/top-ups`, merchant(owner), {
      account: 'promotion_deposit',
      amountFen: 10_000_000_000,
      paymentReference: 'anything',
    });
    expect(claim.status).not.toBe(200);

    const withdrawal = await api.post(`/v1/shops/${shopId}/promotion/excess-withdrawal`, merchant(owner), {});
    expect(withdrawal.status).not.toBe(200);
    const deposit = await api.get(`/v1/shops/${shopId}/deposit`, merchant(owner));
    expect(deposit.body).toMatchObject({ balanceFen: 0, promotionBalanceFen: 0 });
    expect(platformShop(stack, shopId).refunds).toEqual([]);
    await expectLedgerWhole(stack, shopId);
  });
});
