import { createSettlementQueries } from '../../db/repositories/settlement/queries';
import type { SettlementTotals } from '../../db/repositories/settlement/records';
import { createStatementRepository } from '../../db/repositories/settlement/statements';

/** The two settlement repositories a run uses to walk and settle merchants. */
type SettlementRepos = { queries: ReturnType<typeof createSettlementQueries>; statements: ReturnType<typeof createStatementRepository> };
import { merchantIdOf, seedOrders } from '../../scripts/seed-orders';
import { createTestDb, type TestDb } from '../support/db';

const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };

/** Pages through the merchants to settle and settles each page as one range, as the workflow does. */
async function settleAll(repo: SettlementRepos, period: string, pageSize: number) {
  const sum: Partial<Record<keyof SettlementTotals, number>> = {};
  const missing: Array<{ merchantId: string; category: string }> = [];
  const listed: string[] = [];
  let after = '';
  for (;;) {
    const page = await repo.queries.merchantsToSettle(period, after, pageSize);
    if (page.length === 0) break;
    listed.push(...page);
    const last = page[page.length - 1];
    const result = await repo.statements.settleMerchantRange(period, after, last, THRESHOLDS);
    for (const [key, value] of Object.entries(result.totals) as Array<[keyof SettlementTotals, number]>) sum[key] = (sum[key] ?? 0) + value;
    missing.push(...result.missingRate);
    after = last;
  }
  return { sum, missing, listed };
}

describe('settling a seeded month', () => {
  let t: TestDb;
  let repo: SettlementRepos;
  beforeAll(async () => {
    t = await createTestDb();
    repo = { queries: createSettlementQueries(t.db), statements: createStatementRepository(t.db) };
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('20,000 orders over 200 merchants: one statement each, totals equal to a direct sum over the orders', async () => {
    const seeded = await seedOrders(t.db, { orders: 20_000, merchants: 200, period: '2026-10', chunkSize: 7_000 });
    expect(seeded.inserted).toBe(20_000);
    // The same seed again inserts nothing: ids are derived from the period and row number.
    expect((await seedOrders(t.db, { orders: 20_000, merchants: 200, period: '2026-10' })).inserted).toBe(0);

    const { sum, missing, listed } = await settleAll(repo, '2026-10', 50);
    expect(listed).toEqual(Array.from({ length: 200 }, (_, i) => merchantIdOf(i + 1, 200)));
    expect(missing).toEqual([]);

    // Independent of the settlement SQL: numeric round() is half away from zero, which is
    // half-up for positive amounts.
    const { rows } = (await t.db.raw(`
      SELECT COUNT(DISTINCT o.merchant_id)::int AS merchants, COUNT(*)::int AS lines,
             SUM(o.amount_fen)::bigint AS gmv,
             SUM(round(o.amount_fen * r.union_fee_bp / 10000.0))::bigint AS union_fee,
             SUM(round(o.amount_fen * r.channel_share_bp / 10000.0))::bigint AS channel_fee
        FROM orders o JOIN fee_rates r ON r.category = o.category
       WHERE o.status = 'receipt_confirmed'
         AND o.receipt_confirmed_at >= timestamptz '2026-10-01 00:00:00+08'
         AND o.receipt_confirmed_at <  timestamptz '2026-11-01 00:00:00+08'`)) as {
      rows: Array<{ merchants: number; lines: number; gmv: number; union_fee: number; channel_fee: number }>;
    };
    const direct = rows[0];
    const { rows: stored } = (await t.db.raw(`
      SELECT COUNT(*)::int AS statements, COUNT(DISTINCT merchant_id)::int AS merchants,
             SUM(gmv_fen)::bigint AS gmv, SUM(union_fee_fen)::bigint AS union_fee, SUM(channel_fee_fen)::bigint AS channel_fee,
             SUM(payout_fen)::bigint AS payout, SUM(carried_out_fen)::bigint AS carried, SUM(line_count)::int AS lines
        FROM statements WHERE period = '2026-10'`)) as {
      rows: Array<{ statements: number; merchants: number; gmv: number; union_fee: number; channel_fee: number; payout: number; carried: number; lines: number }>;
    };
    expect(stored[0]).toEqual({
      statements: 200,
      merchants: 200,
      gmv: direct.gmv,
      union_fee: direct.union_fee,
      channel_fee: direct.channel_fee,
      payout: sum.payoutFen,
      carried: sum.carriedOutFen,
      lines: direct.lines,
    });
    expect(direct.merchants).toBe(200);
    expect(sum).toMatchObject({ statements: 200, gmvFen: direct.gmv, unionFeeFen: direct.union_fee, channelFeeFen: direct.channel_fee, lineCount: direct.lines });
    expect(sum.netFen).toBe(direct.gmv - direct.union_fee - direct.channel_fee);

    const { rows: marks } = (await t.db.raw(
      `SELECT settled_period, COUNT(*)::int AS n FROM orders GROUP BY settled_period ORDER BY settled_period NULLS LAST`,
    )) as { rows: Array<{ settled_period: string | null; n: number }> };
    // Everything received is settled; refunded and merely paid orders are not.
    const { rows: unsettled } = (await t.db.raw(`SELECT COUNT(*)::int AS n FROM orders WHERE status <> 'receipt_confirmed'`)) as { rows: Array<{ n: number }> };
    expect(marks).toEqual([
      { settled_period: '2026-10', n: direct.lines },
      { settled_period: null, n: unsettled[0].n },
    ]);
    expect(unsettled[0].n).toBeGreaterThan(500);

    expect(await repo.queries.merchantsToSettle('2026-10', '', 50)).toEqual([]);
    expect(await repo.statements.settleMerchantRange('2026-10', '', null, THRESHOLDS)).toMatchObject({ statements: 0, linesMarked: 0 });
  });

  test('a month with some orders in a category without a rate settles every other merchant', async () => {
    await seedOrders(t.db, { orders: 20_000, merchants: 200, period: '2026-11', unratedShare: 0.002, seed: 7 });
    const { rows } = (await t.db.raw(
      `SELECT DISTINCT merchant_id FROM orders WHERE category = 'food' AND status = 'receipt_confirmed' ORDER BY merchant_id`,
    )) as { rows: Array<{ merchant_id: string }> };
    const blocked = rows.map((r) => r.merchant_id);
    expect(blocked.length).toBeGreaterThan(0);

    const { sum, missing } = await settleAll(repo, '2026-11', 64);
    expect(missing.map((m) => m.merchantId)).toEqual(blocked);
    expect(missing.every((m) => m.category === 'food')).toBe(true);
    expect(sum.statements).toBe(200 - blocked.length);
    const { rows: held } = (await t.db.raw(
      `SELECT COUNT(*)::int AS n FROM orders WHERE merchant_id = ANY(?) AND settled_period = '2026-11'`,
      [blocked],
    )) as { rows: Array<{ n: number }> };
    expect(held[0].n).toBe(0);
  });
});
