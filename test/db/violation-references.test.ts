import { createViolationRepository, type NewViolationCase } from '../../db/repositories/violations';
import { decideLevel, penaltyFor } from '../../domain/violations';
import { createTestDb, type TestDb } from '../support/db';

const SHOP = 'shop-m-ref';
const MERCHANT = 'm-ref';

const newCase = (id: string, more: Partial<NewViolationCase> = {}): NewViolationCase => ({
  id,
  merchantId: MERCHANT,
  shopId: SHOP,
  type: 'other',
  level: 'general',
  evidence: { summary: 'cited', productIds: [] },
  openedBy: 'olga',
  openedAt: new Date('2026-06-01T02:00:00Z'),
  workflowId: `violation:${id}`,
  ...more,
});

describe('violation cases under a business reference', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
    await t.db('merchants').insert({ id: MERCHANT, entity_type: 'individual', legal_name: 'Merchant of the reference tests' });
    await t.db('shops').insert({ id: SHOP, merchant_id: MERCHANT, shop_type: 'individual', opened_by_case_id: 'vc-ref' });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('ten inserts racing under one reference record one case; the others are answered with it', async () => {
    const cases = createViolationRepository(t.db);
    const reference = { reference: 'ticket-race', fingerprint: 'f'.repeat(64) };
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => cases.insert(newCase(`vio_race_${i}`, { reference }))));
    const rows = await t.db('violation_cases').where({ reference: 'ticket-race' });
    expect(rows).toHaveLength(1);
    expect(answers.filter((a) => a.opened)).toHaveLength(1);
    for (const a of answers.filter((x) => !x.opened)) {
      expect(a).toMatchObject({ opened: false, existing: { id: rows[0].id, reference: 'ticket-race', requestFingerprint: 'f'.repeat(64) } });
    }
  });

  test('cases without a reference never clash; a reference without its fingerprint is refused by the database', async () => {
    const cases = createViolationRepository(t.db);
    expect(await cases.insert(newCase('vio_plain_1'))).toEqual({ opened: true });
    expect(await cases.insert(newCase('vio_plain_2'))).toEqual({ opened: true });
    await expect(t.db('violation_cases').where({ id: 'vio_plain_1' }).update({ reference: 'ticket-half' })).rejects.toThrow(/violation_cases_reference_fingerprint_check/);
  });

  test("a case is judged on its shop's points of the natural year in Asia/Shanghai, reversed cases left out", async () => {
    await t.db('violation_cases').where({ shop_id: SHOP }).delete();
    const seed = async (id: string, openedAt: string, status: string) =>
      t.db('violation_cases').insert({ id, merchant_id: MERCHANT, shop_id: SHOP, type: 'other', level: 'general', reported_level: 'general', status, points: 2, opened_at: openedAt, evidence: '{}' });
    await seed('vio_2025', '2025-12-31T15:59:59.999Z', 'expired'); // 23:59:59.999 on 31 Dec 2025, Shanghai
    await seed('vio_jan', '2025-12-31T16:00:00.000Z', 'expired'); // 00:00 on 1 Jan 2026, Shanghai
    await seed('vio_feb', '2026-02-01T02:00:00Z', 'expired');
    await seed('vio_mar', '2026-03-01T02:00:00Z', 'expired');
    await seed('vio_apr', '2026-04-01T02:00:00Z', 'reversed');
    await seed('vio_may', '2026-05-01T02:00:00Z', 'expired');
    const cases = createViolationRepository(t.db);
    const judge = async (id: string, asOf: string) => {
      await cases.insert(newCase(id, { openedAt: new Date(asOf) }));
      let seen = -1;
      const decided = await cases.decide(id, new Date(asOf), (record, c) => {
        seen = record.pointsThisYear;
        const level = decideLevel(c.reportedLevel, record.inEffect, record.pointsThisYear);
        return { ...level, penalty: penaltyFor(level, c.type, new Date(asOf)), appealDeadline: '2026-12-31T15:59:59.999Z', effectEndsAt: '2026-12-31T15:59:59.999Z' };
      });
      return { seen, level: decided.level, escalatedBecause: decided.escalatedBecause };
    };
    // 8 points in 2026 (Jan, Feb, Mar, May): this case brings the year to 10.
    expect(await judge('vio_jun', '2026-06-01T02:00:00Z')).toEqual({ seen: 8, level: 'general', escalatedBecause: null });
    await t.db('violation_cases').where({ id: 'vio_jun' }).update({ status: 'expired' });
    // 10 points: this one reaches 12.
    expect(await judge('vio_jul', '2026-07-01T02:00:00Z')).toEqual({ seen: 10, level: 'serious', escalatedBecause: 'year_points' });
  });
});
