import { checkerRefusal, enforcementRestrictionKey, orderRefundKey, progressLine, refundProgress, transitionRefusal, type EnforcementState } from '../../domain/enforcement';

describe('maker ≠ checker', () => {
  test.each([
    ['olga', 'olga', true],
    ['olga', 'pan', false],
    // One person's sub may reach us spelt another way (as domain/payments.ts samePerson says).
    ['olga', 'Olga', true],
    ['olga', ' olga ', true],
    ['olga', 'ｏｌｇａ', true],
    ['olga', 'olga2', false],
  ])('opened by %s, checked by %s: refused %s', (maker, checker, refused) => {
    expect(checkerRefusal(maker, checker) !== undefined).toBe(refused);
  });
});

describe('which state allows which step', () => {
  const states: EnforcementState[] = ['awaiting_approval', 'refunding', 'paused', 'completed', 'rejected'];
  test.each([
    ['approve', ['awaiting_approval']],
    ['reject', ['awaiting_approval']],
    ['pause', ['refunding']],
    ['resume', ['paused']],
  ] as const)('%s only from %j', (step, allowed) => {
    for (const state of states) expect(transitionRefusal(state, step) === undefined).toBe((allowed as readonly string[]).includes(state));
  });
  test('a refusal names the state', () => {
    expect(transitionRefusal('completed', 'pause')).toBe('the action is completed: it cannot be paused now');
  });
});

describe('progress', () => {
  test.each([
    [{ total: 100, refunded: 0, refused: 0 }, { done: 0, failed: 0, remaining: 100 }],
    [{ total: 100, refunded: 60, refused: 3 }, { done: 60, failed: 3, remaining: 37 }],
    [{ total: 100, refunded: 97, refused: 3 }, { done: 97, failed: 3, remaining: 0 }],
    // Orders sold after the count: never a negative remainder.
    [{ total: 100, refunded: 101, refused: 3 }, { done: 101, failed: 3, remaining: 0 }],
  ])('%j is %j', (counts, expected) => {
    expect(refundProgress(counts)).toEqual(expected);
  });
  test('the Web UI line holds figures only', () => {
    expect(progressLine('paused', { done: 12, failed: 1, remaining: 87 })).toBe('paused: 12 refunded, 1 refused, 87 remaining');
  });
});

describe('keys from the business request', () => {
  test('one refund key per order, whichever action asks; one restriction key per action', () => {
    expect(orderRefundKey('o-1')).toBe('order-refund:o-1');
    expect(enforcementRestrictionKey('enf_1')).toBe('enforcement:enf_1:restrict_withdrawals');
  });
});
