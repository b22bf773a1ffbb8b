import {
  escalatedDueAt,
  escalationNoticeKey,
  handlingDueAt,
  isOverdue,
  nextInRound,
  resolvedWithinTarget,
  ticketRefusal,
  type OrderFacts,
} from '../../domain/after-sales';

const at = (iso: string) => Date.parse(iso);
// Received on a Friday evening: the seven days run over a weekend, in calendar time.
const RECEIVED = at('2026-12-04T19:30:00.000Z');
const received: OrderFacts = { status: 'receipt_confirmed', receiptConfirmedAtMs: RECEIVED };

describe('a no-reason return within seven days of the receipt confirmation', () => {
  test.each([
    ['at the confirmation itself', '2026-12-04T19:30:00.000Z', undefined],
    ['a second before the seven days end', '2026-12-11T19:29:59.000Z', undefined],
    ['the last millisecond of the seventh day', '2026-12-11T19:30:00.000Z', undefined],
    ['one millisecond later', '2026-12-11T19:30:00.001Z', 'return_window_closed'],
    ['a second later', '2026-12-11T19:30:01.000Z', 'return_window_closed'],
  ])('%s: %s', (_name, now, expected) => {
    expect(ticketRefusal('no_reason_return', received, at(now))).toBe(expected);
  });

  test('needs a received order; a refunded one has nothing left to return', () => {
    const now = RECEIVED + 1_000;
    expect(ticketRefusal('no_reason_return', { status: 'paid', receiptConfirmedAtMs: null }, now)).toBe('order_not_received');
    expect(ticketRefusal('no_reason_return', { status: 'refunded', receiptConfirmedAtMs: RECEIVED }, now)).toBe('order_refunded');
  });

  test('a complaint needs only the order, received or not, at any time', () => {
    expect(ticketRefusal('complaint', { status: 'paid', receiptConfirmedAtMs: null }, RECEIVED)).toBeUndefined();
    expect(ticketRefusal('complaint', received, RECEIVED + 365 * 86_400_000)).toBeUndefined();
    expect(ticketRefusal('complaint', { status: 'refunded', receiptConfirmedAtMs: RECEIVED }, RECEIVED)).toBeUndefined();
  });
});

describe('the 48-hour handling target', () => {
  const created = at('2026-12-05T10:00:00.000Z');
  test('is 48 calendar hours after creation, across a weekend', () => {
    expect(new Date(handlingDueAt(created)).toISOString()).toBe('2026-12-07T10:00:00.000Z');
  });

  test.each([
    ['a second before', '2026-12-07T09:59:59.000Z', false],
    ['exactly at the due instant', '2026-12-07T10:00:00.000Z', false],
    ['a millisecond after', '2026-12-07T10:00:00.001Z', true],
  ])('overdue %s: %s', (_name, now, expected) => {
    expect(isOverdue(handlingDueAt(created), at(now))).toBe(expected);
    expect(resolvedWithinTarget(created, at(now))).toBe(!expected);
  });

  test('an escalated ticket is due 24 hours after the escalation', () => {
    expect(new Date(escalatedDueAt(at('2026-12-07T10:05:00.000Z'))).toISOString()).toBe('2026-12-08T10:05:00.000Z');
  });

  test('a notice key names the ticket and the level, so each level is told once', () => {
    expect(escalationNoticeKey('ast_1', 1)).toBe('ticket-escalation:ast_1:1');
    expect(escalationNoticeKey('ast_1', 2)).not.toBe(escalationNoticeKey('ast_1', 1));
  });
});

describe('the round of a category', () => {
  test.each([
    [['b', 'a', 'c'], null, 'a'], // nobody had a turn: the first by id
    [['a', 'b', 'c'], 'a', 'b'],
    [['a', 'b', 'c'], 'b', 'c'],
    [['a', 'b', 'c'], 'c', 'a'], // wraps
    [['a', 'c'], 'b', 'c'], // the last one left the category: the next after it
    [['a', 'c'], 'd', 'a'],
    [['only'], 'only', 'only'],
    [[], 'a', null], // no agent: unassigned
  ] as Array<[string[], string | null, string | null]>)('agents %j after %s: %s', (agents, last, expected) => {
    expect(nextInRound(agents, last)).toBe(expected);
  });

  test('ids compare by code point: upper case before lower case', () => {
    expect(nextInRound(['Zed', 'amy'], 'Zed')).toBe('amy');
  });
});
