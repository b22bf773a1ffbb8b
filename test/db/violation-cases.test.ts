import type { Knex } from 'knex';
import { createViolationRepository, type ViolationRepository } from '../../db/repositories/violations';
import { createTestDb, type TestDb } from '../support/db';

async function addShop(db: Knex, shopId: string, shopType = 'individual'): Promise<void> {
  const merchantId = `m-${shopId}`;
  await db('merchants').insert({ id: merchantId, entity_type: shopType, legal_name: `Merchant of ${shopId}` });
  await db('shops').insert({ id: shopId, merchant_id: merchantId, shop_type: shopType, opened_by_case_id: `vc-${shopId}` });
}

const day = (d: number) => new Date(Date.UTC(2025, 2, d, 2, 0, 0));

describe('violation repository', () => {
  let t: TestDb;
  let repo: ViolationRepository;
  beforeAll(async () => {
    t = await createTestDb();
    repo = createViolationRepository(t.db);
    await addShop(t.db, 'shop-1');
    await addShop(t.db, 'shop-2', 'enterprise');
    await addShop(t.db, 'shop-3');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('undecided cases are those not yet decided, counted per shop', async () => {
    const row = (id: string, shopId: string, status: string) => ({
      id,
      shop_id: shopId,
      merchant_id: `m-${shopId}`,
      level: 'general',
      type: 'false_advertising',
      status,
      opened_at: day(1),
    });
    expect(await repo.undecidedCountOf('shop-1')).toBe(0);
    await t.db('violation_cases').insert([
      row('vio-1', 'shop-1', 'appealable'),
      row('vio-2', 'shop-1', 'expired'),
      row('vio-3', 'shop-1', 'appealed'),
      row('vio-4', 'shop-2', 'appealable'),
      row('vio-5', 'shop-1', 'opening'),
      row('vio-6', 'shop-1', 'in_effect'),
      row('vio-7', 'shop-1', 'permanent'),
      row('vio-8', 'shop-1', 'reversed'),
    ]);
    // Undecided cases hold a closure back; decided ones (in effect, permanent, over) do not.
    expect(await repo.undecidedCountOf('shop-1')).toBe(3);
    expect(await repo.undecidedCountOf('shop-3')).toBe(0);
  });

  test('a case still being opened can be discarded; one past opening stays', async () => {
    await repo.discardOpening('vio-5');
    await repo.discardOpening('vio-1');
    const left = await t.db('violation_cases').whereIn('id', ['vio-1', 'vio-5']).pluck('id');
    expect(left).toEqual(['vio-1']);
  });
});
