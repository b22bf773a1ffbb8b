import { processSummary } from '../../workflows/process';

/** The one line the Web UI shows for a run: what it is, for whom, and no personal data. */
describe('processSummary', () => {
  it.each([
    ['verification', { merchant: 'm-1001', case: 'vc_1' }, 'verification · merchant m-1001 · case vc_1'],
    ['deposit', { merchant: 'm-1', shop: 's-1' }, 'deposit · merchant m-1 · shop s-1'],
    ['settlement', { period: '2026-11' }, 'settlement · period 2026-11'],
    ['violation', { merchant: 'm-1', shop: 's-1', amountFen: 123_456_789, note: 'fake_goods, level B' }, 'violation · merchant m-1 · shop s-1 · ¥1,234,567.89 · fake_goods, level B'],
    ['x', { amountFen: 5 }, 'x · ¥0.05'],
    ['x', { amountFen: 100 }, 'x · ¥1.00'],
    ['x', { amountFen: -99 }, 'x · -¥0.99'],
    ['x', { amountFen: 100_000 }, 'x · ¥1,000.00'],
  ])('%s %j reads %s', (type, facts, line) => {
    expect(processSummary(type, facts)).toBe(line);
  });

  it('stays on one line whatever a fact holds', () => {
    expect(processSummary('x', { note: 'a\nb\r\tc' })).toBe('x · a b c');
  });
});
