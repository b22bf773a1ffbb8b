import type { Knex } from 'knex';
import { createCatalogueRiskRepository } from '../../db/repositories/catalogue-risks';
import { bindStore } from '../support/link-windows';
import { createTestDb, type TestDb } from '../support/db';

// The price change log (docs/rules.md §5.3) when scans of one store run out of order: a row that
// loses to a newer one must not leave the product's new price unrecorded for good.
describe('price change log: a scan whose write loses to a newer row', () => {
  let t: TestDb;
  let risks: ReturnType<typeof createCatalogueRiskRepository>;
  let binding: { bindingId: string; shopId: string };
  beforeAll(async () => {
    t = await createTestDb({ as: 'owner' });
    risks = createCatalogueRiskRepository(t.db);
    binding = await bindStore(t.db, 'm-obs', 'taobao', 'tb-obs');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const setPrice = (db: Knex, productId: string, fen: number) =>
    db('catalogue_products')
      .insert({
        binding_id: binding.bindingId,
        product_id: productId,
        merchant_id: 'm-obs',
        shop_id: binding.shopId,
        platform: 'taobao',
        store_id: 'tb-obs',
        title: 't',
        description: 'd',
        category: 'c',
        price_fen: fen,
        channel_price_fen: fen,
        inventory: 1,
        presale: false,
        promo_tags: '[]',
        attributes: '{}',
        images: '[]',
        detail_url: 'https://partner.example/p',
        partner_updated_at: new Date(),
        content_hash: `${productId}:${fen}`,
      })
      .onConflict(['binding_id', 'product_id'])
      .merge({ price_fen: fen, channel_price_fen: fen });
  const log = (productId: string) =>
    t.db('catalogue_price_observations')
      .where({ binding_id: binding.bindingId, product_id: productId })
      .orderBy('day')
      .select(t.db.raw(`to_char(day, 'YYYY-MM-DD') AS day`), t.db.raw('channel_price_fen::int AS fen'));

  test('the same day: an older run scanning after a newer one; the next day records the price', async () => {
    await setPrice(t.db, 'p-same', 100);
    await risks.recordObservations(binding.bindingId, 'run-new', '2026-03-10', new Date('2026-03-10T02:05:00Z'));
    await setPrice(t.db, 'p-same', 130);
    // Its row loses to the newer run's row of the day.
    await risks.recordObservations(binding.bindingId, 'run-old', '2026-03-10', new Date('2026-03-10T02:00:00Z'));
    await risks.recordObservations(binding.bindingId, 'run-next', '2026-03-11', new Date('2026-03-11T02:00:00Z'));
    expect(await log('p-same')).toEqual([
      { day: '2026-03-10', fen: 100 },
      { day: '2026-03-11', fen: 130 },
    ]);
  });

  test('days out of order: a run dated before the latest row, then the next run', async () => {
    await setPrice(t.db, 'p-days', 120);
    await risks.recordObservations(binding.bindingId, 'run-b', '2026-03-12', new Date('2026-03-12T01:00:00Z'));
    await setPrice(t.db, 'p-days', 140);
    await risks.recordObservations(binding.bindingId, 'run-a', '2026-03-11', new Date('2026-03-11T12:00:00Z'));
    await risks.recordObservations(binding.bindingId, 'run-c', '2026-03-13', new Date('2026-03-13T01:00:00Z'));
    expect((await log('p-days')).at(-1)).toEqual({ day: '2026-03-13', fen: 140 });
  });

  test('an unchanged price writes nothing, a changed one a row, once', async () => {
    await setPrice(t.db, 'p-once', 200);
    expect(await risks.recordObservations(binding.bindingId, 'run-1', '2026-03-20', new Date('2026-03-20T01:00:00Z'))).toBeGreaterThanOrEqual(1);
    await risks.recordObservations(binding.bindingId, 'run-2', '2026-03-21', new Date('2026-03-21T01:00:00Z'));
    await setPrice(t.db, 'p-once', 210);
    await risks.recordObservations(binding.bindingId, 'run-3', '2026-03-22', new Date('2026-03-22T01:00:00Z'));
    await risks.recordObservations(binding.bindingId, 'run-3', '2026-03-22', new Date('2026-03-22T01:00:00Z'));
    expect(await log('p-once')).toEqual([
      { day: '2026-03-20', fen: 200 },
      { day: '2026-03-22', fen: 210 },
    ]);
  });
});
