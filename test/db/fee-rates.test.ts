import type { Knex } from 'knex';
import { createFeeRateRepository, FeeRateExistsError, FeeRateRewritesHistoryError } from '../../db/repositories/fee-rates';
import { createStatementRepository } from '../../db/repositories/settlement/statements';
import { createTestDb, type TestDb } from '../support/db';

/** A wall-clock time in Shanghai (UTC+8). */
const shanghai = (local: string) => new Date(`${local}+08:00`);
const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };

let orderSeq = 0;
async function addOrder(db: Knex, merchantId: string, category: string, receivedAt: Date): Promise<string> {
  const id = `fr-ord-${++orderSeq}`;
  await db('orders').insert({
    id,
    merchant_id: merchantId,
    shop_id: `shop-${merchantId}`,
    category,
    amount_fen: 100_000,
    status: 'receipt_confirmed',
    paid_at: new Date(receivedAt.getTime() - 86_400_000),
    receipt_confirmed_at: receivedAt,
  });
  return id;
}

const rate = (category: string, effectiveFrom: string, unionFeeBp = 1_000, channelShareBp = 300) => ({ category, effectiveFrom, unionFeeBp, channelShareBp });

describe('fee rates: versions by date, and the history statements used stays as it was', () => {
  let t: TestDb;
  let rates: ReturnType<typeof createFeeRateRepository>;
  let statements: ReturnType<typeof createStatementRepository>;
  const settle = (prefix: string, period: string) => statements.settleMerchantRange(period, `${prefix}-`, `${prefix}-~`, THRESHOLDS);

  beforeAll(async () => {
    t = await createTestDb();
    rates = createFeeRateRepository(t.db);
    statements = createStatementRepository(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('a new version supersedes from its day; `at` answers the one in force that day', async () => {
    await rates.add(rate('toys', '2026-01-01', 1_000, 300), 'fang');
    const added = await rates.add(rate('toys', '2026-06-01', 1_200, 300), 'fang');
    expect(added).toMatchObject({ category: 'toys', effectiveFrom: '2026-06-01', effectiveUntil: null, unionFeeBp: 1_200, createdBy: 'fang' });

    const all = await rates.list({ category: 'toys' });
    expect(all.map((r) => [r.effectiveFrom, r.effectiveUntil, r.unionFeeBp])).toEqual([
      ['2026-01-01', '2026-06-01', 1_000],
      ['2026-06-01', null, 1_200],
    ]);
    expect((await rates.list({ category: 'toys', at: '2026-05-31' })).map((r) => r.unionFeeBp)).toEqual([1_000]);
    expect((await rates.list({ category: 'toys', at: '2026-06-01' })).map((r) => r.unionFeeBp)).toEqual([1_200]);
    expect(await rates.list({ category: 'toys', at: '2025-12-31' })).toEqual([]);
    // The seeded rates of the migration are there too, one per category on a day.
    expect((await rates.list({ at: '2026-06-01' })).map((r) => r.category)).toEqual(expect.arrayContaining(['apparel', 'beauty', 'digital', 'toys']));
  });

  test('the same category and day again is refused: a version is never replaced', async () => {
    await rates.add(rate('kites', '2026-03-01'), 'fang');
    await expect(rates.add(rate('kites', '2026-03-01', 1_500), 'ada')).rejects.toBeInstanceOf(FeeRateExistsError);
    expect((await rates.list({ category: 'kites' })).map((r) => r.unionFeeBp)).toEqual([1_000]);
  });

  test('a rate may not take over a day whose line a statement priced; the day after the last priced line it may', async () => {
    await rates.add(rate('lamps', '2026-01-01'), 'fang');
    await addOrder(t.db, 'lmp-1', 'lamps', shanghai('2026-10-05T10:00:00'));
    await addOrder(t.db, 'lmp-1', 'lamps', shanghai('2026-10-20T23:59:59.999'));
    expect(await settle('lmp', '2026-10')).toMatchObject({ statements: 1, missingRate: [] });
    // An order confirmed later is not on a statement yet: it does not hold the rate.
    await addOrder(t.db, 'lmp-1', 'lamps', shanghai('2026-10-21T00:00:00'));

    for (const day of ['2026-01-01', '2026-10-05', '2026-10-20']) {
      const refused = await rates.add(rate('lamps', day, 2_000), 'fang').catch((e: unknown) => e);
      if (day === '2026-01-01') {
        expect(refused).toBeInstanceOf(FeeRateExistsError);
        continue;
      }
      expect(refused).toBeInstanceOf(FeeRateRewritesHistoryError);
      expect(refused).toMatchObject({ category: 'lamps', effectiveFrom: day, lastPricedDate: '2026-10-20' });
    }
    await expect(rates.add(rate('lamps', '2026-10-21', 2_000), 'fang')).resolves.toMatchObject({ effectiveFrom: '2026-10-21' });
  });

  test('a rate before the first version of a category fills days no statement priced', async () => {
    await rates.add(rate('pets', '2026-11-01'), 'fang');
    await addOrder(t.db, 'pet-1', 'pets', shanghai('2026-10-06T10:00:00'));
    expect((await settle('pet', '2026-10')).missingRate).toEqual([{ merchantId: 'pet-1', category: 'pets' }]);
    await expect(rates.add(rate('pets', '2026-10-01'), 'fang')).resolves.toMatchObject({ effectiveUntil: '2026-11-01' });
    expect(await settle('pet', '2026-10')).toMatchObject({ statements: 1, missingRate: [] });
  });

  test('the database refuses to edit any rate, and to delete one a statement used; an unused one may be taken back', async () => {
    await rates.add(rate('vases', '2026-01-01'), 'fang');
    await rates.add(rate('vases', '2026-12-01'), 'fang');
    await addOrder(t.db, 'vas-1', 'vases', shanghai('2026-10-05T10:00:00'));
    await settle('vas', '2026-10');

    await expect(t.db('fee_rates').where({ category: 'vases', effective_from: '2026-12-01' }).update({ union_fee_bp: 1 })).rejects.toThrow(/never edited/);
    await expect(t.db('fee_rates').where({ category: 'vases', effective_from: '2026-01-01' }).delete()).rejects.toThrow(/would rewrite it/);
    await t.db('fee_rates').where({ category: 'vases', effective_from: '2026-12-01' }).delete();
    expect((await rates.list({ category: 'vases' })).map((r) => r.effectiveFrom)).toEqual(['2026-01-01']);
  });

  test('the table refuses parts above 100% together', async () => {
    await expect(rates.add(rate('gold', '2026-01-01', 9_000, 1_001), 'fang')).rejects.toThrow(/fee_rates_total_check/);
    await expect(rates.add(rate('gold', '2026-01-01', 9_000, 1_000), 'fang')).resolves.toMatchObject({ unionFeeBp: 9_000 });
  });

  test('a rate added while a statement is being written waits for it, then sees the lines it priced', async () => {
    // Two connections are needed; PGlite has one.
    if (!t.url) return;
    await rates.add(rate('clocks', '2026-01-01'), 'fang');
    const orderId = await addOrder(t.db, 'clk-1', 'clocks', shanghai('2026-10-05T10:00:00'));
    const trx = await t.db.transaction();
    let outcome: unknown = 'pending';
    try {
      // What a settlement range does first (statements.ts), then marks its lines settled.
      await trx.raw(`SELECT pg_advisory_xact_lock_shared(hashtext('fee_rates'))`);
      await trx('orders').where({ id: orderId }).update({ settled_period: '2026-10' });
      const adding = rates.add(rate('clocks', '2026-10-01', 2_000), 'fang').then(
        (r) => (outcome = r),
        (e: unknown) => (outcome = e),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(outcome).toBe('pending');
      await trx.commit();
      await adding;
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    expect(outcome).toBeInstanceOf(FeeRateRewritesHistoryError);
  });
});
