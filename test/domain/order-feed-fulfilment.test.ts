import { feedOrderSchema, type FeedOrder } from '../../domain/order-feed';

const paid: FeedOrder = {
  orderId: 'o-1',
  merchantId: 'm-1',
  shopId: 's-1',
  category: 'apparel',
  amountFen: 1_000,
  status: 'paid',
  paidAt: '2026-12-01T00:00:00.000Z',
  receiptConfirmedAt: null,
  refundedAt: null,
};
const problems = (order: object) => {
  const parsed = feedOrderSchema.safeParse(order);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('order feed: fulfilment facts are optional and consistent', () => {
  test('an event without them reads as before (every existing fixture)', () => {
    expect(problems(paid)).toEqual([]);
  });

  test.each([
    ['shipped exactly at payment', { shippedAt: paid.paidAt }, []],
    ['shipped 1 ms before payment', { shippedAt: '2026-11-30T23:59:59.999Z' }, ['shippedAt: is before paidAt']],
    ['a tracking number without a shipment', { trackingNumber: 'SF1' }, ['trackingNumber: needs shippedAt']],
    ['a carrier report without a shipment', { logisticsException: 'lost' }, ['logisticsException: needs shippedAt']],
    ['a tracking update at the shipment', { shippedAt: '2026-12-01T08:00:00.000Z', trackingUpdatedAt: '2026-12-01T08:00:00.000Z' }, []],
    [
      'a tracking update 1 ms before the shipment',
      { shippedAt: '2026-12-01T08:00:00.000Z', trackingUpdatedAt: '2026-12-01T07:59:59.999Z' },
      ['trackingUpdatedAt: is before shippedAt'],
    ],
    ['a pre-sale date before payment (the clock then starts at payment)', { presalePromisedAt: '2026-11-01T00:00:00.000Z' }, []],
    ['a Youzan order mapping', { partnerOrder: { platform: 'youzan', orderId: 'E1' } }, []],
    ['a mapping to an unknown platform', { partnerOrder: { platform: 'ebay', orderId: 'E1' } }, [expect.stringMatching(/^partnerOrder\.platform: /)]],
  ])('%s', (_name, extra, expected) => {
    expect(problems({ ...paid, ...extra })).toEqual(expected);
  });
});
