import fc from 'fast-check';
import { allocateRefund, creditDecision, MAX_MOVEMENT_FEN, refundableFen, samePerson, type CreditClaim, type RefundablePayment, type ReportedPayment } from '../../domain/payments';

const payment: ReportedPayment = { paymentId: 'pay_1', shopId: 'shop-a', account: 'promotion_deposit', amountFen: 80_000, payerAccount: 'bank:6222-1', status: 'confirmed' };
const claim: CreditClaim = { shopId: 'shop-a', paymentId: 'pay_1' };

describe('what a payment credits', () => {
  test.each<[string, CreditClaim, ReportedPayment | null, ReturnType<typeof creditDecision>]>([
    ['a confirmed payment: its own amount and account', claim, payment, { credit: true, account: 'promotion_deposit', amountFen: 80_000, payerAccount: 'bank:6222-1' }],
    ['the same, with the account and amount as checks that agree', { ...claim, account: 'promotion_deposit', amountFen: 80_000 }, payment, { credit: true, account: 'promotion_deposit', amountFen: 80_000, payerAccount: 'bank:6222-1' }],
    ['an unknown payment', claim, null, { credit: false, refusal: 'PaymentNotFound', message: expect.stringContaining('unknown') }],
    ['a payment answered under another id', claim, { ...payment, paymentId: 'pay_2' }, { credit: false, refusal: 'PaymentNotFound', message: expect.any(String) }],
    ['a pending payment', claim, { ...payment, status: 'pending' }, { credit: false, refusal: 'PaymentPending', message: expect.stringContaining('retry') }],
    ['a failed payment', claim, { ...payment, status: 'failed' }, { credit: false, refusal: 'PaymentFailed', message: expect.any(String) }],
    ["another shop's payment", { ...claim, shopId: 'shop-b' }, payment, { credit: false, refusal: 'PaymentMismatch', message: expect.stringContaining('another shop') }],
    ['a payment to the other account', { ...claim, account: 'deposit' }, payment, { credit: false, refusal: 'PaymentMismatch', message: expect.stringContaining('promotion_deposit') }],
    ['a claim of one fen more than paid', { ...claim, amountFen: 80_001 }, payment, { credit: false, refusal: 'PaymentMismatch', message: expect.stringContaining('80000') }],
    ['a claim of one fen less than paid', { ...claim, amountFen: 79_999 }, payment, { credit: false, refusal: 'PaymentMismatch', message: expect.any(String) }],
    ['the reported claim: 100,000,000 CNY against a real 800 CNY payment', { ...claim, amountFen: 10_000_000_000 }, payment, { credit: false, refusal: 'PaymentMismatch', message: expect.any(String) }],
    ['a payment the platform already refunded in part (a chargeback): only what it still holds', claim, { ...payment, refundedFen: 30_000 }, { credit: true, account: 'promotion_deposit', amountFen: 50_000, payerAccount: 'bank:6222-1' }],
    ['one fen still held on the platform: one fen', claim, { ...payment, refundedFen: 79_999 }, { credit: true, account: 'promotion_deposit', amountFen: 1, payerAccount: 'bank:6222-1' }],
    ['a payment the platform refunded in full: nothing to credit', claim, { ...payment, refundedFen: 80_000 }, { credit: false, refusal: 'PaymentFailed', message: expect.stringContaining('refunded') }],
    ['a confirmed payment of exactly the per-movement limit', claim, { ...payment, amountFen: MAX_MOVEMENT_FEN }, { credit: true, account: 'promotion_deposit', amountFen: MAX_MOVEMENT_FEN, payerAccount: 'bank:6222-1' }],
    ['a confirmed payment one fen above the per-movement limit', claim, { ...payment, amountFen: MAX_MOVEMENT_FEN + 1 }, { credit: false, refusal: 'PaymentMismatch', message: expect.stringContaining('per movement') }],
    ['a confirmed payment of 2^53 − 1 fen: no balance could be read after it', claim, { ...payment, amountFen: Number.MAX_SAFE_INTEGER }, { credit: false, refusal: 'PaymentMismatch', message: expect.stringContaining('per movement') }],
    ['a pending payment with a wrong amount: the mismatch is what is said', { ...claim, amountFen: 1 }, { ...payment, status: 'pending' }, { credit: false, refusal: 'PaymentMismatch', message: expect.any(String) }],
  ])('%s', (_name, c, p, expected) => {
    expect(creditDecision(c, p)).toEqual(expected);
  });
});

const paid = (paymentId: string, amountFen: number, refundedFen = 0): RefundablePayment => ({ paymentId, payerAccount: `bank:${paymentId}`, amountFen, refundedFen });

describe('where a refund goes', () => {
  const payments = [paid('p1', 50_000, 20_000), paid('p2', 30_000), paid('p3', 10_000, 10_000), paid('p4', 5_000)];

  test.each<[string, number, Array<[string, number]>]>([
    ['nothing', 0, []],
    ['one fen: from the oldest payment with money left', 1, [['p1', 1]]],
    ['exactly what the oldest can give back', 30_000, [['p1', 30_000]]],
    ['one fen more: it spills to the next', 30_001, [['p1', 30_000], ['p2', 1]]],
    ['everything refundable, skipping a payment refunded in full', 65_000, [['p1', 30_000], ['p2', 30_000], ['p4', 5_000]]],
    ['more than was paid in: capped at what is refundable', 10_000_000_000, [['p1', 30_000], ['p2', 30_000], ['p4', 5_000]]],
  ])('%s', (_name, amountFen, expected) => {
    const allocations = allocateRefund(amountFen, payments);
    expect(allocations.map((a) => [a.paymentId, a.amountFen])).toEqual(expected);
    for (const a of allocations) expect(a.payerAccount).toBe(`bank:${a.paymentId}`);
  });

  test('refundable is paid in minus refunded, summed', () => {
    expect(refundableFen(payments)).toBe(65_000);
    expect(refundableFen([])).toBe(0);
  });

  test('a negative or fractional refund is a bug, not a refund', () => {
    expect(() => allocateRefund(-1, payments)).toThrow();
    expect(() => allocateRefund(0.5, payments)).toThrow();
  });

  test('for any payments and amount: never more than asked, never more than a payment can give, all of it when it can', () => {
    const arbPayment = fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 })).map(([amount, refunded]) => ({ amount, refunded: Math.min(amount, refunded) }));
    fc.assert(
      fc.property(fc.array(arbPayment, { maxLength: 8 }), fc.integer({ min: 0, max: 10_000_000 }), (raw, amountFen) => {
        const list = raw.map((p, i) => paid(`p${i}`, p.amount, p.refunded));
        const allocations = allocateRefund(amountFen, list);
        const total = allocations.reduce((s, a) => s + a.amountFen, 0);
        expect(total).toBe(Math.min(amountFen, refundableFen(list)));
        for (const a of allocations) {
          const p = list.find((x) => x.paymentId === a.paymentId)!;
          expect(a.amountFen).toBeGreaterThan(0);
          expect(a.amountFen).toBeLessThanOrEqual(p.amountFen - p.refundedFen);
        }
        expect(new Set(allocations.map((a) => a.paymentId)).size).toBe(allocations.length);
      }),
    );
  });
});

describe('maker and checker: who counts as the same person', () => {
  test.each<[string, string, string, boolean]>([
    ['the same sub', 'fang', 'fang', true],
    ['another case', 'fang', 'Fang', true],
    ['surrounding blanks', 'fang', ' fang\t', true],
    ['full-width letters', 'fang', 'ｆａｎｇ', true],
    ['upper case', 'li', 'LI', true],
    ['another person', 'fang', 'fu', false],
    ['a sub that only starts the same', 'fang', 'fang2', false],
  ])('%s', (_name, maker, checker, same) => {
    expect(samePerson(maker, checker)).toBe(same);
    expect(samePerson(checker, maker)).toBe(same);
  });
});
