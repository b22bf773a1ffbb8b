import type { Knex } from 'knex';
import {
  ClosureConflictError,
  DepositRecordNotFoundError,
  EpisodeConflictError,
  createDepositRepository,
  type DepositRepository,
} from '../../db/repositories/deposits';
import { createTestDb, type TestDb } from '../support/db';

async function addShop(db: Knex, shopId: string, shopType = 'individual'): Promise<void> {
  const merchantId = `m-${shopId}`;
  await db('merchants').insert({ id: merchantId, entity_type: shopType, legal_name: `Merchant of ${shopId}` });
  await db('shops').insert({ id: shopId, merchant_id: merchantId, shop_type: shopType, opened_by_case_id: `vc-${shopId}` });
}

const day = (d: number) => new Date(Date.UTC(2025, 2, d, 2, 0, 0));

describe('deposit repository', () => {
  let t: TestDb;
  let repo: DepositRepository;
  beforeAll(async () => {
    t = await createTestDb();
    repo = createDepositRepository(t.db);
    await addShop(t.db, 'shop-1');
    await addShop(t.db, 'shop-2', 'enterprise');
    await addShop(t.db, 'shop-3');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('requirement', () => {
    test('the latest assessment replaces the earlier one', async () => {
      expect(await repo.find('shop-1')).toBeUndefined();
      await repo.saveRequirement('shop-1', { requiredFen: 50_000, parts: { baseFen: 50_000 }, month: '2025-01', at: day(1) });
      await repo.saveRequirement('shop-1', {
        requiredFen: 250_000,
        parts: { baseFen: 50_000, specialFen: 200_000 },
        month: '2025-02',
        at: day(2),
      });
      expect(await repo.find('shop-1')).toMatchObject({
        shopId: 'shop-1',
        requiredFen: 250_000,
        parts: { baseFen: 50_000, specialFen: 200_000 },
        assessedForMonth: '2025-02',
        assessedAt: day(2),
        status: 'open',
      });
    });

    test('open accounts page by shop id with their shop type; closed accounts drop out', async () => {
      await repo.saveRequirement('shop-2', { requiredFen: 100_000, parts: {}, month: '2025-02', at: day(2) });
      await repo.saveRequirement('shop-3', { requiredFen: 50_000, parts: {}, month: '2025-02', at: day(2) });
      const first = await repo.openAccountsAfter('', 2);
      expect(first.map((a) => [a.shopId, a.shopType, a.requiredFen])).toEqual([
        ['shop-1', 'individual', 250_000],
        ['shop-2', 'enterprise', 100_000],
      ]);
      expect((await repo.openAccountsAfter('shop-2', 2)).map((a) => a.shopId)).toEqual(['shop-3']);

      await repo.markClosed('shop-3');
      expect(await repo.find('shop-3')).toMatchObject({ status: 'closed' });
      expect((await repo.openAccountsAfter('shop-2', 2)).map((a) => a.shopId)).toEqual([]);
      await expect(repo.markClosed('shop-unknown')).rejects.toThrow(DepositRecordNotFoundError);
    });
  });

  describe('top-up episodes', () => {
    const schedule = { cart: '2025-03-04T02:00:00.000Z', listing: '2025-03-08T02:00:00.000Z' };
    const episode = { id: 'ep-1', shopId: 'shop-1', startedAt: day(1), requiredFen: 250_000, balanceAtStartFen: 30_000, schedule };

    test('opening the same episode twice opens it once; a second open episode is refused', async () => {
      const first = await repo.openEpisode(episode);
      expect(first).toMatchObject({ opened: true, episode: { id: 'ep-1', endedAt: null, requiredFen: 250_000, balanceAtStartFen: 30_000, schedule } });
      expect(await repo.openEpisode({ ...episode, balanceAtStartFen: 1 })).toMatchObject({ opened: false, episode: { balanceAtStartFen: 30_000 } });

      const error = await repo.openEpisode({ ...episode, id: 'ep-2' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EpisodeConflictError);
      expect(error).toMatchObject({ shopId: 'shop-1', openEpisodeId: 'ep-1' });
    });

    test('each step is recorded once and the first record stands', async () => {
      expect(await repo.recordStep('ep-1', 'notified', day(1), { channel: 'sms' })).toEqual({ recorded: true });
      expect(await repo.recordStep('ep-1', 'notified', day(2), { channel: 'retry' })).toEqual({ recorded: false });
      await repo.recordStep('ep-1', 'cart', day(4));
      expect((await repo.openEpisodeOf('shop-1'))?.steps).toEqual([
        { step: 'notified', at: day(1), details: { channel: 'sms' } },
        { step: 'cart', at: day(4), details: {} },
      ]);
    });

    test('closing is idempotent, and afterwards a new episode may open', async () => {
      expect(await repo.closeEpisode('ep-1', day(5), 'topped_up')).toEqual({ closed: true });
      expect(await repo.closeEpisode('ep-1', day(6), 'shop_closed')).toEqual({ closed: false });
      expect(await repo.openEpisodeOf('shop-1')).toBeUndefined();
      await expect(repo.closeEpisode('ep-missing', day(6), 'x')).rejects.toThrow(DepositRecordNotFoundError);

      await repo.openEpisode({ ...episode, id: 'ep-2', startedAt: day(10) });
      const all = await repo.episodes('shop-1');
      expect(all.map((e) => [e.id, e.endedAt, e.endReason, e.steps.length])).toEqual([
        ['ep-2', null, null, 0],
        ['ep-1', day(5), 'topped_up', 2],
      ]);
      expect((await repo.openEpisodeOf('shop-1'))?.id).toBe('ep-2');
      expect(await repo.episodes('shop-2')).toEqual([]);
    });
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
      await expect(repo.updateClosure('cl-missing', { status: 'closed' })).rejects.toThrow(DepositRecordNotFoundError);
      await expect(repo.updateClosure('cl-missing', {})).rejects.toThrow(DepositRecordNotFoundError);
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

  test('open violation cases are those not yet closed, counted per shop', async () => {
    const row = (id: string, shopId: string, status: string) => ({
      id,
      shop_id: shopId,
      merchant_id: `m-${shopId}`,
      level: 'general',
      type: 'false_advertising',
      status,
      opened_at: day(1),
    });
    expect(await repo.openViolationCount('shop-1')).toBe(0);
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
    expect(await repo.openViolationCount('shop-1')).toBe(3);
    expect(await repo.openViolationCount('shop-3')).toBe(0);
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
    await repo.setShopStatus('shop-2', 'closing');
    expect(await t.db('shops').where({ id: 'shop-2' }).first()).toMatchObject({ status: 'closing' });
    await expect(repo.setShopStatus('shop-unknown', 'closed')).rejects.toThrow(DepositRecordNotFoundError);
  });
});
