import type { Knex } from 'knex';
import {
  DepositRecordNotFoundError,
  EpisodeConflictError,
  createDepositAccountRepository,
  type DepositAccountRepository,
} from '../../db/repositories/deposit-accounts';
import { createTestDb, type TestDb } from '../support/db';

async function addShop(db: Knex, shopId: string, shopType = 'individual'): Promise<void> {
  const merchantId = `m-${shopId}`;
  await db('merchants').insert({ id: merchantId, entity_type: shopType, legal_name: `Merchant of ${shopId}` });
  await db('shops').insert({ id: shopId, merchant_id: merchantId, shop_type: shopType, opened_by_case_id: `vc-${shopId}` });
}

const day = (d: number) => new Date(Date.UTC(2025, 2, d, 2, 0, 0));

describe('deposit account repository', () => {
  let t: TestDb;
  let repo: DepositAccountRepository;
  beforeAll(async () => {
    t = await createTestDb();
    repo = createDepositAccountRepository(t.db);
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
});
