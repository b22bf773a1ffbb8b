import { collectOwed, shortfallFen } from '../../domain/deposit';
import { deductionOwing, settlingOwed, topUp, proceedsTransfer } from '../../db/repositories/ledger';

describe('shortfallFen with what is owed', () => {
  test.each([
    // balance, required, owed -> shortfall
    [0, 50_000, 100_000, 150_000],
    [0, 50_000, 1, 50_001],
    [50_000, 50_000, 1, 1],
    [50_000, 50_000, 0, 0],
    [150_000, 50_000, 100_000, 0],
    [149_999, 50_000, 100_000, 1],
  ])('balance %d, required %d, owed %d -> %d', (balance, required, owed, expected) => {
    expect(shortfallFen(balance, required, owed)).toBe(expected);
  });

  test('owed is never negative', () => {
    expect(() => shortfallFen(0, 0, -1)).toThrow(/owedFen must be a non-negative/);
  });
});

describe('collectOwed: main deposit, then promotion deposit, then still owed', () => {
  test.each([
    // deposit, promotion, owed -> from deposit, from promotion, still owed
    [50_000, 60_000, 174_000, 50_000, 60_000, 64_000],
    [50_000, 60_000, 110_000, 50_000, 60_000, 0],
    [50_000, 60_000, 110_001, 50_000, 60_000, 1],
    [50_000, 60_000, 50_000, 50_000, 0, 0],
    [50_000, 60_000, 50_001, 50_000, 1, 0],
    [0, 150_000, 100_000, 0, 100_000, 0],
    [0, 0, 100_000, 0, 0, 100_000],
    [-5_000, 10_000, 20_000, 0, 10_000, 10_000],
    [50_000, 60_000, 0, 0, 0, 0],
  ])('deposit %d, promotion %d, owed %d -> %d + %d, %d still owed', (depositFen, promotionFen, owedFen, d, p, rest) => {
    const c = collectOwed({ depositFen, promotionFen, owedFen });
    expect(c).toEqual({ fromDepositFen: d, fromPromotionFen: p, stillOwedFen: rest });
    expect(c.fromDepositFen + c.fromPromotionFen + c.stillOwedFen).toBe(owedFen);
  });
});

describe('ledger entries for what is owed', () => {
  const sum = (entries: Array<{ amountFen: number }>) => entries.reduce((a, e) => a + e.amountFen, 0);

  test.each([
    // fine, held -> deposit, receivable
    [200_000, 100_000, -100_000, -100_000],
    [200_000, 200_000, -200_000, 0],
    [200_000, 199_999, -199_999, -1],
    [200_000, 300_000, -200_000, 0],
    [200_000, 0, 0, -200_000],
  ])('a fine of %d against %d held', (fine, held, deposit, receivable) => {
    const entries = deductionOwing('deposit', fine, held);
    expect(sum(entries)).toBe(0);
    expect(entries.find((e) => e.account === 'deposit')?.amountFen ?? 0).toBe(deposit);
    expect(entries.find((e) => e.account === 'receivable')?.amountFen ?? 0).toBe(receivable);
    expect(entries.find((e) => e.account === 'platform_income')?.amountFen).toBe(fine);
    expect(entries.every((e) => e.amountFen !== 0)).toBe(true);
  });

  test.each([
    // top-up, owed -> deposit, receivable
    [50_000, 100_000, 0, 50_000],
    [100_000, 100_000, 0, 100_000],
    [100_001, 100_000, 1, 100_000],
    [150_000, 100_000, 50_000, 100_000],
    [150_000, 0, 150_000, 0],
  ])('a top-up of %d while %d is owed', (fen, owed, deposit, receivable) => {
    for (const entries of [settlingOwed(topUp('deposit', fen), owed), settlingOwed(proceedsTransfer(fen), owed)]) {
      expect(sum(entries)).toBe(0);
      expect(entries.find((e) => e.account === 'deposit')?.amountFen ?? 0).toBe(deposit);
      expect(entries.find((e) => e.account === 'receivable')?.amountFen ?? 0).toBe(receivable);
      expect(entries.every((e) => e.amountFen !== 0)).toBe(true);
    }
  });

  test('a promotion deposit top-up does not settle what is owed', () => {
    expect(settlingOwed(topUp('promotion_deposit', 10_000), 5_000)).toEqual(topUp('promotion_deposit', 10_000));
  });
});
