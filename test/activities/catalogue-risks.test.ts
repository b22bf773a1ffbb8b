import { MockActivityEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { createCatalogueRiskActivities, type CatalogueRiskActivities, type StoreRiskScan } from '../../activities/catalogue-risks';
import { createCatalogueRiskRepository } from '../../db/repositories/catalogue-risks';
import { createViolationRepository } from '../../db/repositories/violations';
import { findingKey } from '../../domain/catalogue-risks';
import type { ListingsHold, PlatformClient } from '../../platform/types';
import { bindStore } from '../support/link-windows';
import { openShop } from '../support/shops';
import { caseState } from '../support/violations';
import { startStack, type Stack } from '../support/stack';

// 2026-03-10 09:00 in Shanghai.
const AS_OF = '2026-03-10T01:00:00.000Z';
const DAY = '2026-03-10';

interface ProductText {
  title?: string;
  description?: string;
  priceFen?: number;
  channelPriceFen?: number;
  /** The status a new row starts with (the sync lists it later). */
  listingStatus?: 'pending' | 'listed';
}

/** What a sync run leaves: the product row as it wrote it, stamped with its run. */
async function synced(db: Knex, b: { bindingId: string; shopId: string; merchantId: string; storeId: string }, runId: string, productId: string, p: ProductText = {}): Promise<void> {
  const row = {
    binding_id: b.bindingId,
    product_id: productId,
    merchant_id: b.merchantId,
    shop_id: b.shopId,
    platform: 'youzan',
    store_id: b.storeId,
    title: p.title ?? '夏季纯棉连衣裙',
    description: p.description ?? '透气舒适',
    category: 'dress',
    ks_category: 'apparel',
    price_fen: p.priceFen ?? 10_000,
    channel_price_fen: p.channelPriceFen ?? p.priceFen ?? 10_000,
    inventory: 5,
    presale: false,
    promo_tags: '[]',
    attributes: '{}',
    images: '[]',
    detail_url: `https://youzan.example/${productId}`,
    partner_updated_at: new Date(AS_OF),
    content_hash: `${runId}:${productId}`,
    listing_status: p.listingStatus ?? 'listed',
    last_sync_run_id: runId,
  };
  const { binding_id: _b, product_id: _p, listing_status: _l, ...changed } = row;
  await db('catalogue_products').insert(row).onConflict(['binding_id', 'product_id']).merge(changed);
}

describe('scanCatalogueRisks (database, Temporal and a recording platform)', () => {
  let stack: Stack;
  let scan: CatalogueRiskActivities['scanCatalogueRisks'];
  const holds: Array<{ change: ListingsHold; key: string }> = [];
  let seq = 0;

  beforeAll(async () => {
    stack = await startStack();
    const platform = {
      async holdListings(_shopId: string, change: ListingsHold, key: string) {
        holds.push({ change, key });
        return { changed: change.productIds.length };
      },
    } as unknown as PlatformClient;
    scan = createCatalogueRiskActivities({ db: stack.db, platform, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE }).scanCatalogueRisks;
  }, 120_000);
  afterAll(async () => {
    await stack?.teardown();
  });

  /** A merchant with a real shop (its deposit process running) and a bound Youzan store. */
  async function boundStore() {
    seq += 1;
    const merchantId = `m-risk-${seq}-${Date.now() % 100_000}`;
    await openShop(stack, merchantId);
    const storeId = `store-${merchantId}`;
    const { bindingId, shopId } = await bindStore(stack.db, merchantId, 'youzan', storeId);
    return { bindingId, shopId, merchantId, storeId };
  }

  const casesUnder = (reference: string) => stack.db('violation_cases').where({ reference });

  test('a banned word in a title opens one false-advertising case across two runs and a retried scan', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-1', 'p-1', { title: '全网销量第一 连衣裙', description: '１００％纯棉' });
    await synced(stack.db, b, 'run-1', 'p-2');

    const first = await scan({ bindingId: b.bindingId, syncRunId: 'run-1', asOf: AS_OF });
    expect(first).toMatchObject({ scanned: 2, findings: { banned_words: 1 }, casesOpened: 1 });
    // The activity retried: the same run again.
    const retried = await scan({ bindingId: b.bindingId, syncRunId: 'run-1', asOf: AS_OF });
    expect(retried).toMatchObject({ scanned: 2, findings: { banned_words: 1 }, casesOpened: 0 });
    // The next run of the day finds the same title.
    await synced(stack.db, b, 'run-2', 'p-1', { title: '全网销量第一 连衣裙', description: '１００％纯棉' });
    const second = await scan({ bindingId: b.bindingId, syncRunId: 'run-2', asOf: '2026-03-10T07:00:00.000Z' });
    expect(second.casesOpened).toBe(0);

    const key = findingKey(b.bindingId, 'p-1', 'banned_words', DAY);
    const opened = await casesUnder(key);
    expect(opened).toHaveLength(1);
    expect(await stack.db('violation_cases').where({ shop_id: b.shopId })).toHaveLength(1);
    expect(opened[0]).toMatchObject({ type: 'false_advertising', reported_level: 'general', opened_by: 'system' });
    expect(opened[0].evidence.productIds).toEqual(['p-1']);
    expect(opened[0].evidence.summary).toContain('list version 1');
    expect(opened[0].evidence.summary).toContain('"第一" in title');
    expect(opened[0].evidence.summary).toContain('"100%" in description');
    const finding = await stack.db('risk_findings').where({ key }).first();
    expect(finding).toMatchObject({ case_id: opened[0].id, status: 'open', kind: 'banned_words' });
    expect(finding.details.words).toEqual([
      { word: '第一', fields: ['title'] },
      { word: '100%', fields: ['description'] },
    ]);
    // The case's process runs and decides it.
    await caseState(stack, opened[0].id, (s) => s.status === 'appealable');
  }, 120_000);

  test("a batch's scans run store after store in one activity; a retried attempt scans only the stores its heartbeat has not recorded", async () => {
    const [first, second] = [await boundStore(), await boundStore()];
    await synced(stack.db, first, 'run-b', 'p-b1', { title: '国家级 面膜' });
    await synced(stack.db, second, 'run-b', 'p-b2', { title: '最佳 面膜' });
    const activities = createCatalogueRiskActivities({ db: stack.db, platform: {} as PlatformClient, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const beats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const input = { bindingIds: [first.bindingId, second.bindingId], syncRunId: 'run-b', asOf: AS_OF };
    const scans: StoreRiskScan[] = await env.run(activities.scanCatalogueRisksOfStores, input);
    expect(scans).toEqual([
      { bindingId: first.bindingId, summary: expect.objectContaining({ scanned: 1, casesOpened: 1 }) },
      { bindingId: second.bindingId, summary: expect.objectContaining({ scanned: 1, casesOpened: 1 }) },
    ]);
    expect(beats.at(-1)).toEqual({ done: scans });

    // An attempt after the first store's summary was heartbeated: the first is not scanned again.
    const judgedBefore = await stack.db('catalogue_products').where({ binding_id: first.bindingId }).first('risk_judged_on');
    await stack.db('catalogue_products').where({ binding_id: first.bindingId }).update({ risk_judged_on: null });
    const retried = new MockActivityEnvironment({ heartbeatDetails: { done: [scans[0]] } });
    const again: StoreRiskScan[] = await retried.run(activities.scanCatalogueRisksOfStores, input);
    expect(again[0]).toEqual(scans[0]);
    expect(again[1]).toMatchObject({ bindingId: second.bindingId, summary: { casesOpened: 0 } });
    expect(await stack.db('catalogue_products').where({ binding_id: first.bindingId }).first('risk_judged_on')).toEqual({ risk_judged_on: null });
    expect(judgedBefore!.risk_judged_on).not.toBeNull();
    expect(await stack.db('violation_cases').whereIn('shop_id', [first.shopId, second.shopId])).toHaveLength(2);
  }, 120_000);

  test('a price moving more than 15% against the week before opens a price violation; exactly 15% does not', async () => {
    const b = await boundStore();
    for (const [productId, channelPriceFen] of [['p-move', 11_501], ['p-edge', 11_500], ['p-new', 20_000]] as const) {
      await synced(stack.db, b, 'run-f', productId, { priceFen: channelPriceFen, channelPriceFen });
    }
    // The week before: 10000 fen a day for the first two (the new product has no history).
    for (const productId of ['p-move', 'p-edge']) {
      for (const day of ['2026-03-03', '2026-03-05', '2026-03-09']) {
        await stack.db('catalogue_price_observations').insert({ binding_id: b.bindingId, product_id: productId, day, channel_price_fen: 10_000, partner_price_fen: 10_000, observed_at: new Date(`${day}T04:00:00Z`), sync_run_id: 'old' });
      }
    }
    const result = await scan({ bindingId: b.bindingId, syncRunId: 'run-f', asOf: AS_OF });
    expect(result).toMatchObject({ scanned: 3, findings: { price_fluctuation: 1 }, casesOpened: 1 });
    const [opened] = await casesUnder(findingKey(b.bindingId, 'p-move', 'price_fluctuation', DAY));
    expect(opened).toMatchObject({ type: 'price_violation', reported_level: 'general' });
    expect(opened.evidence.summary).toContain('11501 fen against a reference of 10000 fen');
    // Today's prices are observed, one row a day.
    const today = await stack.db('catalogue_price_observations').where({ binding_id: b.bindingId }).whereRaw(`day = ?::date`, [DAY]).orderBy('product_id').pluck('channel_price_fen');
    expect(today.map(Number)).toEqual([11_500, 11_501, 20_000]);
  }, 120_000);

  test('a price gap holds the listing, and the listing is released when the gap is gone (no case)', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-g1', 'p-gap', { priceFen: 10_000, channelPriceFen: 11_001 });
    await synced(stack.db, b, 'run-g1', 'p-ten', { priceFen: 10_000, channelPriceFen: 11_000 });
    const held = await scan({ bindingId: b.bindingId, syncRunId: 'run-g1', asOf: AS_OF });
    expect(held).toMatchObject({ findings: { price_gap: 1 }, held: 1, released: 0, casesOpened: 0 });
    const hold = holds.find((h) => h.change.storeId === b.storeId && h.change.action === 'hold')!;
    expect(hold.change).toMatchObject({ partner: 'youzan', productIds: ['p-gap'] });
    expect(hold.key).toContain('run-g1');
    expect(await stack.db('catalogue_products').where({ binding_id: b.bindingId, product_id: 'p-gap' }).first()).toMatchObject({ listing_status: 'held' });

    await synced(stack.db, b, 'run-g2', 'p-gap', { priceFen: 10_000, channelPriceFen: 10_500 });
    const released = await scan({ bindingId: b.bindingId, syncRunId: 'run-g2', asOf: '2026-03-10T07:00:00.000Z' });
    expect(released).toMatchObject({ held: 0, released: 1 });
    expect(holds.filter((h) => h.change.storeId === b.storeId).map((h) => h.change.action)).toEqual(['hold', 'release']);
    expect(await stack.db('catalogue_products').where({ binding_id: b.bindingId, product_id: 'p-gap' }).first()).toMatchObject({ listing_status: 'listed', hold_reason: null });
    expect(await stack.db('risk_findings').where({ binding_id: b.bindingId, kind: 'price_gap' }).first()).toMatchObject({ status: 'fixed', case_id: null });
    expect(await stack.db('violation_cases').where({ shop_id: b.shopId })).toHaveLength(0);
  }, 120_000);

  test('a finding fixed while its case is undecided is attached to the case as evidence', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-x1', 'p-fix', { title: '顶级面料 首选' });
    await scan({ bindingId: b.bindingId, syncRunId: 'run-x1', asOf: AS_OF });
    const key = findingKey(b.bindingId, 'p-fix', 'banned_words', DAY);
    const [opened] = await casesUnder(key);
    await caseState(stack, opened.id, (s) => s.status === 'appealable');

    await synced(stack.db, b, 'run-x2', 'p-fix', { title: '优质面料' });
    const later = '2026-03-11T01:00:00.000Z';
    await scan({ bindingId: b.bindingId, syncRunId: 'run-x2', asOf: later });
    const finding = await stack.db('risk_findings').where({ key }).first();
    expect(finding).toMatchObject({ status: 'fixed' });
    expect(finding.attached_to_case_at).not.toBeNull();
    const events = await createViolationRepository(stack.db).events(opened.id);
    const fixed = events.find((e) => e.type === 'finding_fixed');
    expect(fixed?.details).toMatchObject({ findingKey: key, kind: 'banned_words', fixedAt: later });
    // A new day's scan of the fixed title opens nothing.
    expect(await stack.db('violation_cases').where({ shop_id: b.shopId })).toHaveLength(1);
  }, 120_000);

  test('a case the violation process refuses (the shop is closed) is recorded on the finding, not retried', async () => {
    seq += 1;
    const merchantId = `m-risk-closed-${seq}`;
    const { bindingId, shopId } = await bindStore(stack.db, merchantId, 'youzan', `store-${merchantId}`);
    await stack.db('shops').where({ id: shopId }).update({ status: 'closed' });
    const b = { bindingId, shopId, merchantId, storeId: `store-${merchantId}` };
    await synced(stack.db, b, 'run-c', 'p-c', { title: '绝对好用' });
    expect(await scan({ bindingId, syncRunId: 'run-c', asOf: AS_OF })).toMatchObject({ findings: { banned_words: 1 }, casesOpened: 0 });
    expect(await stack.db('risk_findings').where({ binding_id: bindingId }).first()).toMatchObject({ case_id: null, case_refused: 'shop_closed' });
    expect(await scan({ bindingId, syncRunId: 'run-c', asOf: AS_OF })).toMatchObject({ casesOpened: 0 });
  }, 120_000);

  /** The Shanghai day's 09:00 as the scan's instant. */
  const morningOf = (day: string) => `${day}T01:00:00.000Z`;

  test('a price put back after a fluctuation opens no second case, even after days at the moved price', async () => {
    const b = await boundStore();
    for (const day of ['2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09']) {
      await stack.db('catalogue_price_observations').insert({ binding_id: b.bindingId, product_id: 'p-back', day, channel_price_fen: 10_000, partner_price_fen: 10_000, observed_at: new Date(`${day}T04:00:00Z`), sync_run_id: 'old' });
    }
    const days: Array<[string, number]> = [
      ['2026-03-10', 12_000],
      ['2026-03-11', 12_000],
      ['2026-03-12', 12_000],
      ['2026-03-13', 12_000],
      ['2026-03-14', 10_000],
      ['2026-03-15', 10_000],
      ['2026-03-16', 10_000],
    ];
    for (const [day, price] of days) {
      await synced(stack.db, b, `run-${day}`, 'p-back', { priceFen: price, channelPriceFen: price });
      await scan({ bindingId: b.bindingId, syncRunId: `run-${day}`, asOf: morningOf(day) });
    }
    const findings = await stack.db('risk_findings').where({ binding_id: b.bindingId, kind: 'price_fluctuation' });
    expect(findings.map((f) => f.key)).toEqual([findingKey(b.bindingId, 'p-back', 'price_fluctuation', '2026-03-10')]);
    expect(findings[0]).toMatchObject({ status: 'fixed' });
    expect(await stack.db('violation_cases').where({ shop_id: b.shopId })).toHaveLength(1);
  }, 180_000);

  test('a pending product held for a price gap stays pending (not listed) when released, and is not held on the platform', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-p1', 'p-pending', { priceFen: 10_000, channelPriceFen: 12_000, listingStatus: 'pending' });
    await synced(stack.db, b, 'run-p1', 'p-listed', { priceFen: 10_000, channelPriceFen: 12_000 });
    const held = await scan({ bindingId: b.bindingId, syncRunId: 'run-p1', asOf: AS_OF });
    expect(held).toMatchObject({ held: 2 });
    expect(await stack.db('catalogue_products').where({ binding_id: b.bindingId, product_id: 'p-pending' }).first()).toMatchObject({ listing_status: 'held', held_from_status: 'pending', hold_reason: expect.stringContaining('price_gap') });
    expect(holds.filter((h) => h.change.storeId === b.storeId).flatMap((h) => h.change.productIds)).toEqual(['p-listed']);

    await synced(stack.db, b, 'run-p2', 'p-pending', { priceFen: 10_000, channelPriceFen: 10_000 });
    await synced(stack.db, b, 'run-p2', 'p-listed', { priceFen: 10_000, channelPriceFen: 10_000 });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-p2', asOf: '2026-03-10T07:00:00.000Z' })).toMatchObject({ released: 2 });
    const after = await stack.db('catalogue_products').where({ binding_id: b.bindingId }).orderBy('product_id').select('product_id', 'listing_status', 'hold_reason', 'held_from_status');
    expect(after).toEqual([
      { product_id: 'p-listed', listing_status: 'listed', hold_reason: null, held_from_status: null },
      { product_id: 'p-pending', listing_status: 'pending', hold_reason: null, held_from_status: null },
    ]);
    expect(holds.filter((h) => h.change.storeId === b.storeId).map((h) => [h.change.action, h.change.productIds])).toEqual([
      ['hold', ['p-listed']],
      ['release', ['p-listed']],
    ]);
  }, 120_000);

  test('a finding found again the same day after its fix is re-opened on the same case; the next day opens nothing', async () => {
    const b = await boundStore();
    const key = findingKey(b.bindingId, 'p-again', 'banned_words', DAY);
    await synced(stack.db, b, 'run-a1', 'p-again', { title: '顶级羊毛' });
    await scan({ bindingId: b.bindingId, syncRunId: 'run-a1', asOf: AS_OF });
    const [opened] = await casesUnder(key);
    await synced(stack.db, b, 'run-a2', 'p-again', { title: '羊毛' });
    await scan({ bindingId: b.bindingId, syncRunId: 'run-a2', asOf: '2026-03-10T04:00:00.000Z' });
    expect(await stack.db('risk_findings').where({ key }).first()).toMatchObject({ status: 'fixed' });

    await synced(stack.db, b, 'run-a3', 'p-again', { title: '顶级羊毛' });
    await scan({ bindingId: b.bindingId, syncRunId: 'run-a3', asOf: '2026-03-10T07:00:00.000Z' });
    expect(await stack.db('risk_findings').where({ key }).first()).toMatchObject({ status: 'open', fixed_at: null, case_id: opened.id });

    await synced(stack.db, b, 'run-a4', 'p-again', { title: '顶级羊毛' });
    await scan({ bindingId: b.bindingId, syncRunId: 'run-a4', asOf: '2026-03-11T01:00:00.000Z' });
    expect(await stack.db('risk_findings').where({ binding_id: b.bindingId }).pluck('key')).toEqual([key]);
    expect(await stack.db('violation_cases').where({ shop_id: b.shopId })).toHaveLength(1);
  }, 120_000);

  test('a finding left without its case (a crash between recording and opening) gets it on the next scan, even for a product gone since', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-l1', 'p-left', { title: '万能清洁剂' });
    await stack.db('catalogue_products').where({ binding_id: b.bindingId, product_id: 'p-left' }).update({ gone_at: new Date(AS_OF) });
    const key = findingKey(b.bindingId, 'p-left', 'banned_words', '2026-03-09');
    await stack.db('risk_findings').insert({
      key,
      binding_id: b.bindingId,
      product_id: 'p-left',
      merchant_id: b.merchantId,
      shop_id: b.shopId,
      kind: 'banned_words',
      day: '2026-03-09',
      details: JSON.stringify({ words: [{ word: '万能', fields: ['title'] }], listVersion: 1 }),
      sync_run_id: 'run-l0',
      found_at: new Date('2026-03-09T01:00:00Z'),
    });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-l2', asOf: AS_OF })).toMatchObject({ casesOpened: 1 });
    const [opened] = await casesUnder(key);
    expect(await stack.db('risk_findings').where({ key }).first()).toMatchObject({ case_id: opened.id, status: 'open' });
  }, 120_000);

  test('a finding whose case was reversed is closed, so a relapse the next day opens a new finding and case', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-r1', 'p-rev', { title: '独家配方' });
    await scan({ bindingId: b.bindingId, syncRunId: 'run-r1', asOf: AS_OF });
    const first = findingKey(b.bindingId, 'p-rev', 'banned_words', DAY);
    const [opened] = await casesUnder(first);
    await caseState(stack, opened.id, (s) => s.status === 'appealable');
    await stack.db('violation_cases').where({ id: opened.id }).update({ status: 'reversed' });

    await synced(stack.db, b, 'run-r2', 'p-rev', { title: '独家配方' });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-r2', asOf: '2026-03-11T01:00:00.000Z' })).toMatchObject({ casesOpened: 1 });
    expect(await stack.db('risk_findings').where({ key: first }).first()).toMatchObject({ status: 'closed' });
    const second = await stack.db('risk_findings').where({ key: findingKey(b.bindingId, 'p-rev', 'banned_words', '2026-03-11') }).first();
    expect(second).toMatchObject({ status: 'open', case_id: expect.any(String) });
    expect(second.case_id).not.toBe(opened.id);
  }, 120_000);

  test('a refused case closes its finding: a relapse the next day is a new finding, not blocked for ever', async () => {
    seq += 1;
    const merchantId = `m-risk-closed2-${seq}`;
    const { bindingId, shopId } = await bindStore(stack.db, merchantId, 'youzan', `store-${merchantId}`);
    await stack.db('shops').where({ id: shopId }).update({ status: 'closed' });
    const b = { bindingId, shopId, merchantId, storeId: `store-${merchantId}` };
    await synced(stack.db, b, 'run-c1', 'p-c', { title: '绝对好用' });
    await scan({ bindingId, syncRunId: 'run-c1', asOf: AS_OF });
    expect(await stack.db('risk_findings').where({ binding_id: bindingId }).first()).toMatchObject({ status: 'closed', case_refused: 'shop_closed' });
    await scan({ bindingId, syncRunId: 'run-c2', asOf: '2026-03-11T01:00:00.000Z' });
    expect(await stack.db('risk_findings').where({ binding_id: bindingId }).orderBy('day').pluck('key')).toEqual([
      findingKey(bindingId, 'p-c', 'banned_words', DAY),
      findingKey(bindingId, 'p-c', 'banned_words', '2026-03-11'),
    ]);
  }, 120_000);

  test('a live product never judged is observed and judged, even when the run did not rewrite it', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-s1', 'p-still', { title: '夏季 极品 连衣裙' });
    await synced(stack.db, b, 'run-s1', 'p-gone');
    await stack.db('catalogue_products').where({ binding_id: b.bindingId, product_id: 'p-gone' }).update({ gone_at: new Date(AS_OF) });
    // The next run rewrote nothing: the product's row still carries run-s1.
    const result = await scan({ bindingId: b.bindingId, syncRunId: 'run-s2', asOf: AS_OF });
    expect(result).toMatchObject({ scanned: 1, findings: { banned_words: 1 }, casesOpened: 1 });
    expect(await stack.db('catalogue_price_observations').where({ binding_id: b.bindingId }).pluck('product_id')).toEqual(['p-still']);
  }, 120_000);

  const observe = (b: { bindingId: string }, productId: string, day: string, fen: number) =>
    stack.db('catalogue_price_observations').insert({ binding_id: b.bindingId, product_id: productId, day, channel_price_fen: fen, partner_price_fen: fen, observed_at: new Date(`${day}T04:00:00Z`), sync_run_id: 'old' });

  test('an unchanged product is not judged again: only what the run wrote, open findings and recent price changes are', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-u1', 'p-same');
    await synced(stack.db, b, 'run-u1', 'p-bad', { title: '顶级 连衣裙' });
    await synced(stack.db, b, 'run-u1', 'p-edit');
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-u1', asOf: AS_OF })).toMatchObject({ scanned: 3, findings: { banned_words: 1 } });
    const observed = await stack.db('catalogue_price_observations').where({ binding_id: b.bindingId }).count({ n: '*' }).first();

    // The next run rewrites one product: it and the product with an open finding are judged (both found, one new).
    await synced(stack.db, b, 'run-u2', 'p-edit', { title: '独家 连衣裙' });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-u2', asOf: '2026-03-10T07:00:00.000Z' })).toMatchObject({ scanned: 2, findings: { banned_words: 2 }, casesOpened: 1 });
    // A run that rewrites nothing judges only the products with an open finding; no price changed, so nothing is observed.
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-u3', asOf: '2026-03-11T01:00:00.000Z' })).toMatchObject({ scanned: 2, findings: { banned_words: 2 }, casesOpened: 0 });
    expect(await stack.db('catalogue_price_observations').where({ binding_id: b.bindingId }).count({ n: '*' }).first()).toEqual(observed);
    expect(await stack.db('catalogue_products').where({ binding_id: b.bindingId }).pluck('risk_list_version')).toEqual([1, 1, 1]);
  }, 120_000);

  test('a price stable for 8 days and more, then moving +20%, is a fluctuation; the reference is carried forward from a change 10 days before', async () => {
    const b = await boundStore();
    // Changed to 10000 on 02-28, then unchanged for 10 days: no observation since.
    await observe(b, 'p-stable', '2026-02-20', 8_000);
    await observe(b, 'p-stable', '2026-02-28', 10_000);
    await synced(stack.db, b, 'run-s0', 'p-stable', { priceFen: 10_000, channelPriceFen: 10_000 });
    await stack.db('catalogue_products').where({ binding_id: b.bindingId }).update({ risk_list_version: 1 });
    // Nothing changed and nothing is open: the product is not judged, and no price is recorded.
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-s1', asOf: AS_OF })).toMatchObject({ scanned: 0 });
    expect(await stack.db('catalogue_price_observations').where({ binding_id: b.bindingId }).pluck('day')).toHaveLength(2);

    await synced(stack.db, b, 'run-s2', 'p-stable', { priceFen: 12_000, channelPriceFen: 12_000 });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-s2', asOf: '2026-03-10T07:00:00.000Z' })).toMatchObject({ scanned: 1, findings: { price_fluctuation: 1 }, casesOpened: 1 });
    const [opened] = await casesUnder(findingKey(b.bindingId, 'p-stable', 'price_fluctuation', DAY));
    expect(opened.evidence.summary).toContain('12000 fen against a reference of 10000 fen (median of the 7 observed days 2026-03-03..2026-03-09)');
  }, 120_000);

  test('a banned word added to the list is found in an unchanged product on the next scan', async () => {
    const b = await boundStore();
    await synced(stack.db, b, 'run-w1', 'p-word', { title: '爆款 连衣裙' });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-w1', asOf: AS_OF })).toMatchObject({ scanned: 1, findings: {} });
    expect(await scan({ bindingId: b.bindingId, syncRunId: 'run-w2', asOf: '2026-03-10T04:00:00.000Z' })).toMatchObject({ scanned: 0 });

    const { version } = await createCatalogueRiskRepository(stack.db).addBannedWords(['爆款'], 'ops-1', 'test', new Date(AS_OF));
    const result = await scan({ bindingId: b.bindingId, syncRunId: 'run-w3', asOf: '2026-03-10T07:00:00.000Z' });
    expect(result.findings.banned_words).toBe(1);
    const finding = await stack.db('risk_findings').where({ key: findingKey(b.bindingId, 'p-word', 'banned_words', DAY) }).first();
    expect(finding.details).toMatchObject({ words: [{ word: '爆款', fields: ['title'] }], listVersion: version });
    expect(await stack.db('catalogue_products').where({ binding_id: b.bindingId }).pluck('risk_list_version')).toEqual([version]);
  }, 120_000);
});
