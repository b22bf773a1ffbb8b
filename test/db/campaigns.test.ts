import type { Knex } from 'knex';
import { migratorConfig } from '../../db/migrations';
import { createCampaignRepository } from '../../db/repositories/campaigns';
import { createTestDb, type TestDb } from '../support/db';

/** The campaign tables' own checks, and 029 rolling back on its own. */
describe('campaigns in the database', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb({ as: 'owner' });
    await t.db('merchants').insert({ id: 'm-cdb', entity_type: 'individual', legal_name: 'x', verification_status: 'verified' });
    await t.db('shops').insert({ id: 's-cdb', merchant_id: 'm-cdb', shop_type: 'individual', opened_by_case_id: 'vc-cdb' });
    await t.db.transaction((trx) =>
      createCampaignRepository(trx).insert({ id: 'cmp_db', kind: 'close_shops', reason: 'r', createdBy: 'olga', workflowId: 'campaign:cmp_db', ratePerMinute: 60, targets: [{ shopId: 's-cdb' }] }, trx),
    );
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const item = (position: number, over: Record<string, unknown>) => t.db('campaign_items').insert({ campaign_id: 'cmp_db', position, ...over });

  test.each([
    ['a shop and a streamer', { shop_id: 's-1', streamer_id: 'ks-1', merchant_id: 'm-1' }],
    ['neither a shop nor a streamer', {}],
    ['a streamer without the merchant', { streamer_id: 'ks-1' }],
    ['201 products', { shop_id: 's-1', product_ids: Array.from({ length: 201 }, (_, i) => `p-${i}`) }],
    ['no products', { shop_id: 's-1', product_ids: [] }],
    ['a refusal without its reason', { shop_id: 's-1', state: 'refused', finished_at: new Date() }],
    ['a settled item without its time', { shop_id: 's-1', state: 'done' }],
    ['position 0', { shop_id: 's-1', position: 0 }],
  ])('an item with %s is refused', async (_name, over) => {
    await expect(item(100, over)).rejects.toMatchObject({ code: '23514' });
  });

  test('more results than items, or an ended campaign without its end, is refused', async () => {
    await expect(t.db('campaigns').where({ id: 'cmp_db' }).update({ done: 2 })).rejects.toMatchObject({ code: '23514' });
    await expect(t.db('campaigns').where({ id: 'cmp_db' }).update({ state: 'completed' })).rejects.toMatchObject({ code: '23514' });
  });

  test('the next pending page and every page of items are read by index, not by scanning the list (EXPLAIN over 50,000 items)', async () => {
    const targets = Array.from({ length: 50_000 }, (_, i) => ({ shopId: `s-x${i}` }));
    await t.db.transaction((trx) => createCampaignRepository(trx).insert({ id: 'cmp_big', kind: 'close_shops', reason: 'r', createdBy: 'olga', workflowId: 'campaign:cmp_big', ratePerMinute: 60, targets }, trx));
    await t.db('campaign_items').where({ campaign_id: 'cmp_big' }).where('position', '<=', 40_000).update({ state: 'done', finished_at: new Date() });
    await t.db.raw('ANALYZE campaign_items');
    // The repository's own statements, caught as they run, then explained.
    const repo = createCampaignRepository(t.db);
    const ran: Array<{ sql: string; bindings: Knex.RawBinding[] }> = [];
    const catchQuery = (q: { sql: string; bindings: Knex.RawBinding[] }) => ran.push(q);
    t.db.on('query', catchQuery);
    try {
      await repo.pending('cmp_big', 50);
      await repo.items('cmp_big', { afterPosition: 30_000 }, 50);
      await repo.items('cmp_big', { state: 'pending', afterPosition: 45_000 }, 50);
      await repo.items('cmp_big', { state: 'done', afterPosition: 30_000 }, 50);
    } finally {
      t.db.off('query', catchQuery);
    }
    expect(ran).toHaveLength(4);
    for (const q of ran) {
      const { rows } = (await t.db.raw(`EXPLAIN ${q.sql.replace(/\$\d+/g, '?')}`, q.bindings)) as { rows: Array<{ 'QUERY PLAN': string }> };
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index (Only )?Scan using campaign_items_(state_idx|pkey)/);
      expect(plan).not.toMatch(/Sort|Seq Scan/);
    }
  });

  test('029 rolls back on its own: the tables and the campaign-held restrictions go, the other sources stay; up again', async () => {
    await t.db('shop_restrictions').insert([
      { shop_id: 's-cdb', restriction: 'stop_sales', source: 'campaign:cmp_db', since: new Date() },
      { shop_id: 's-cdb', restriction: 'stop_sales', source: 'deposit', since: new Date() },
    ]);
    while ((await t.db.migrate.currentVersion(migratorConfig)) > '029') await t.db.migrate.down(migratorConfig);
    expect(await t.db.migrate.currentVersion(migratorConfig)).toBe('029');
    await t.db.migrate.down(migratorConfig);
    expect(await t.db.schema.hasTable('campaigns')).toBe(false);
    expect(await t.db('shop_restrictions').where({ shop_id: 's-cdb' }).pluck('source')).toEqual(['deposit']);
    await expect(t.db('shop_restrictions').insert({ shop_id: 's-cdb', restriction: 'close_cart', source: 'campaign:x', since: new Date() })).rejects.toMatchObject({ code: '23514' });

    await t.db.migrate.latest(migratorConfig);
    expect(await t.db.schema.hasTable('campaign_items')).toBe(true);
    await t.db('shop_restrictions').insert({ shop_id: 's-cdb', restriction: 'close_cart', source: 'campaign:x', since: new Date() });
  });
});
