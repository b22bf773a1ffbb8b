import type { Knex } from 'knex';
import { ClosureConflictError, ShopRecordNotFoundError, createShopRepository, type ShopRepository } from '../../db/repositories/shops';
import { createTestDb, type TestDb } from '../support/db';

async function addShop(db: Knex, shopId: string, shopType = 'individual'): Promise<void> {
  const merchantId = `m-${shopId}`;
  await db('merchants').insert({ id: merchantId, entity_type: shopType, legal_name: `Merchant of ${shopId}` });
  await db('shops').insert({ id: shopId, merchant_id: merchantId, shop_type: shopType, opened_by_case_id: `vc-${shopId}` });
}

const day = (d: number) => new Date(Date.UTC(2025, 2, d, 2, 0, 0));

describe('shop repository', () => {
  let t: TestDb;
  let repo: ShopRepository;
  beforeAll(async () => {
    t = await createTestDb();
    repo = createShopRepository(t.db);
    await addShop(t.db, 'shop-1');
    await addShop(t.db, 'shop-2', 'enterprise');
    await addShop(t.db, 'shop-3');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('a shop is found by id', async () => {
    expect(await repo.find('shop-2')).toMatchObject({ id: 'shop-2', merchant_id: 'm-shop-2', shop_type: 'enterprise', status: 'open' });
    expect(await repo.find('shop-unknown')).toBeUndefined();
  });

  describe('restrictions', () => {
    test('each source holds its own restrictions; lifting one source keeps the other', async () => {
      expect(await repo.applyRestrictions('shop-2', ['cart', 'listing', 'cart'], 'deposit', day(3))).toEqual(['cart', 'listing']);
      expect(await repo.applyRestrictions('shop-2', ['listing'], 'deposit', day(8))).toEqual([]);
      await repo.applyRestrictions('shop-2', ['listing', 'sales'], 'closure', day(9));
      expect(await repo.restrictionsOf('shop-2')).toEqual([
        { restriction: 'cart', source: 'deposit', since: day(3) },
        { restriction: 'listing', source: 'deposit', since: day(3) },
        { restriction: 'listing', source: 'closure', since: day(9) },
        { restriction: 'sales', source: 'closure', since: day(9) },
      ]);

      expect(await repo.liftRestrictions('shop-2', ['cart'], 'deposit')).toEqual(['cart']);
      expect(await repo.liftRestrictions('shop-2', 'all', 'deposit')).toEqual(['listing']);
      expect(await repo.liftRestrictions('shop-2', 'all', 'deposit')).toEqual([]);
      expect((await repo.restrictionsOf('shop-2')).map((r) => `${r.restriction}/${r.source}`)).toEqual(['listing/closure', 'sales/closure']);
      expect(await repo.applyRestrictions('shop-2', [], 'deposit', day(9))).toEqual([]);
    });

    test('an unknown source is refused by the database', async () => {
      await expect(repo.applyRestrictions('shop-2', ['cart'], 'violation' as 'deposit', day(9))).rejects.toThrow(/shop_restrictions_source_check/);
    });
  });

  describe('closures', () => {
    const closure = { id: 'cl-1', shopId: 'shop-3', workflowId: 'ShopClosure:shop-3', status: 'winding_down', requestedBy: 'merchant:m-shop-3', requestedAt: day(1) };

    test('a request is recorded once and a second active closure is refused', async () => {
      expect(await repo.activeClosureOf('shop-3')).toBeUndefined();
      expect(await repo.latestClosureOf('shop-3')).toBeUndefined();
      expect(await repo.createClosure(closure)).toMatchObject({ created: true, closure: { id: 'cl-1', status: 'winding_down', refundedFen: null, details: {} } });
      expect(await repo.createClosure({ ...closure, status: 'other' })).toMatchObject({ created: false, closure: { status: 'winding_down' } });

      const error = await repo.createClosure({ ...closure, id: 'cl-2' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClosureConflictError);
      expect(error).toMatchObject({ activeClosureId: 'cl-1' });
    });

    test('updates replace fields and merge details', async () => {
      await repo.updateClosure('cl-1', { status: 'awaiting_orders', details: { openOrders: 3 } });
      await repo.updateClosure('cl-1', { details: { openViolations: 0 } });
      const updated = await repo.updateClosure('cl-1', { status: 'closed', refundedFen: 80_000, closedAt: day(30) });
      expect(updated).toMatchObject({
        status: 'closed',
        refundedFen: 80_000,
        closedAt: day(30),
        cancelledAt: null,
        details: { openOrders: 3, openViolations: 0 },
      });
      expect(await repo.activeClosureOf('shop-3')).toBeUndefined();
      await expect(repo.updateClosure('cl-missing', { status: 'closed' })).rejects.toThrow(ShopRecordNotFoundError);
      await expect(repo.updateClosure('cl-missing', {})).rejects.toThrow(ShopRecordNotFoundError);
    });

    test('after a closure ends another may be requested, and it is the latest', async () => {
      await repo.createClosure({ ...closure, id: 'cl-2', requestedAt: day(31) });
      expect((await repo.activeClosureOf('shop-3'))?.id).toBe('cl-2');
      await repo.updateClosure('cl-2', { status: 'cancelled', cancelledAt: day(31) });
      expect(await repo.activeClosureOf('shop-3')).toBeUndefined();
      expect((await repo.latestClosureOf('shop-3'))?.id).toBe('cl-2');
      expect((await repo.findClosure('cl-1'))?.status).toBe('closed');
    });
  });

  test('categories are upserted: the last word on a category wins, others are kept', async () => {
    await repo.setCategories('shop-1', [
      { category: 'food', status: 'open' },
      { category: 'beauty', status: 'open' },
      { category: 'apparel', status: 'open' },
    ]);
    await repo.setCategories('shop-1', [
      { category: 'beauty', status: 'open' },
      { category: 'beauty', status: 'closed' },
    ]);
    await repo.setCategories('shop-1', []);
    expect(await repo.categoriesOf('shop-1')).toEqual([
      { category: 'apparel', status: 'open' },
      { category: 'beauty', status: 'closed' },
      { category: 'food', status: 'open' },
    ]);
    expect(await repo.categoriesOf('shop-2')).toEqual([]);
  });

  test('the shop status is set on the shops table', async () => {
    await repo.setStatus('shop-2', 'closing');
    expect(await t.db('shops').where({ id: 'shop-2' }).first()).toMatchObject({ status: 'closing' });
    await expect(repo.setStatus('shop-unknown', 'closed')).rejects.toThrow(ShopRecordNotFoundError);
  });
});
