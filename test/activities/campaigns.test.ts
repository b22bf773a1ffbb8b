import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCampaignActivities, STREAMER_WARNING_TEMPLATE } from '../../activities/campaigns';
import { createCampaignRepository, type CampaignTarget } from '../../db/repositories/campaigns';
import { CLOSE_SHOP_RESTRICTIONS, MAX_ITEM_ATTEMPTS, type CampaignKind } from '../../domain/campaigns';
import { ErrorType } from '../../domain/errors';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { PlatformClient, PlatformRejectionDetails } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

/**
 * A campaign's pages on PostgreSQL against the sandbox platform: one call per item under its
 * key, the page's budget kept across a retried page, refused targets recorded with the
 * platform's words, transient failures tried again and then failed, our access refused for ops.
 */
describe('campaign activities (database and sandbox platform)', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let platform: PlatformClient;
  /** Keys of every call the campaign's platform received, in order. */
  const keys: string[] = [];
  const UNKNOWN_SHOP = 's-unknown';

  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    const real = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    // The sandbox knows every shop; the real platform answers 404 for one it does not know.
    const unknownShop = () => {
      const details: PlatformRejectionDetails = { status: 404, body: { error: 'shop_not_found' } };
      return ApplicationFailure.nonRetryable(`PUT /v1/shops/${UNKNOWN_SHOP}/restrictions returned 404: shop_not_found`, ErrorType.PlatformRejected, details);
    };
    platform = {
      ...real,
      async setRestrictions(shopId, change, key) {
        keys.push(key);
        if (shopId === UNKNOWN_SHOP) throw unknownShop();
        return real.setRestrictions(shopId, change, key);
      },
      async delistProducts(shopId, change, key) {
        keys.push(key);
        return real.delistProducts(shopId, change, key);
      },
      async notify(input, key) {
        keys.push(key);
        return real.notify(input, key);
      },
    };
    await t.db('merchants').insert({ id: 'm-cmp', entity_type: 'individual', legal_name: 'x', verification_status: 'verified' });
    await t.db('shops').insert({ id: 's-local', merchant_id: 'm-cmp', shop_type: 'individual', opened_by_case_id: 'vc-cmp' });
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });
  beforeEach(() => {
    keys.length = 0;
    sandbox.state.settings.errorRate = 0;
  });

  let n = 0;
  async function aCampaign(kind: CampaignKind, targets: CampaignTarget[]): Promise<string> {
    n += 1;
    const id = `cmp_${String(n).padStart(24, '0')}`;
    await t.db.transaction((trx) => createCampaignRepository(trx).insert({ id, kind, reason: 'forged brand authorisation', createdBy: 'ops:olga', workflowId: `campaign:${id}`, ratePerMinute: 60, targets }, trx));
    return id;
  }
  const run = <A, R>(fn: (input: A) => Promise<R>, input: A) => new MockActivityEnvironment().run(fn, input);
  const itemsOf = (id: string) => t.db('campaign_items').where({ campaign_id: id }).orderBy('position').select('position', 'state', 'reason', 'attempts', 'result');

  test('close shops: each shop once under its key, the unknown one refused with the reason, the budget of a page kept across its retry', async () => {
    const activities = createCampaignActivities({ db: t.db, platform });
    const id = await aCampaign('close_shops', [{ shopId: 's-local' }, { shopId: UNKNOWN_SHOP }, { shopId: 's-remote' }]);

    const first = await run(activities.runCampaignPage, { campaignId: id, page: 1, callsPerPage: 2 });
    expect(first).toEqual({ calls: 2, stoppedBy: 'budget', progress: { total: 3, done: 1, refused: 1, failed: 0, pending: 1 } });
    // The same page again (a retried attempt): its budget is spent, nothing more is sent.
    expect(await run(activities.runCampaignPage, { campaignId: id, page: 1, callsPerPage: 2 })).toMatchObject({ calls: 2, progress: { pending: 1 } });
    expect(keys).toEqual([`campaign:${id}:1`, `campaign:${id}:2`]);

    const second = await run(activities.runCampaignPage, { campaignId: id, page: 2, callsPerPage: 2 });
    expect(second).toEqual({ calls: 1, stoppedBy: 'finished', progress: { total: 3, done: 2, refused: 1, failed: 0, pending: 0 } });
    expect(keys).toEqual([`campaign:${id}:1`, `campaign:${id}:2`, `campaign:${id}:3`]);

    const items = await itemsOf(id);
    expect(items.map((i) => i.state)).toEqual(['done', 'refused', 'done']);
    expect(items[1]).toMatchObject({ reason: expect.stringContaining('404: shop_not_found'), attempts: 1, result: null });
    expect(items[0].result).toEqual({ inForce: [...CLOSE_SHOP_RESTRICTIONS] });
    for (const shopId of ['s-local', 's-remote']) expect([...sandbox.state.shops.get(shopId)!.restrictions].sort()).toEqual([...CLOSE_SHOP_RESTRICTIONS].sort());
    // Held under the campaign's own source where we know the shop, so the deposit ladder never lifts it.
    expect(await t.db('shop_restrictions').where({ shop_id: 's-local' }).orderBy('restriction').select('restriction', 'source')).toEqual(
      [...CLOSE_SHOP_RESTRICTIONS].sort().map((restriction) => ({ restriction, source: `campaign:${id}` })),
    );

    const summary = await run(activities.finishCampaign, { campaignId: id, cancelled: false });
    expect(summary).toEqual({ kind: 'close_shops', total: 3, done: 2, refused: 1, failed: 0, notTried: 0, outcome: 'completed' });
    expect(await t.db('campaigns').where({ id }).first('state', 'summary')).toEqual({ state: 'completed', summary });
    expect(await run(activities.finishCampaign, { campaignId: id, cancelled: true })).toEqual(summary);
  });

  test('delist products and warn streamers: one call per item, the result each answered', async () => {
    const activities = createCampaignActivities({ db: t.db, platform });
    const delist = await aCampaign('delist_products', [
      { shopId: 's-d1', productIds: ['p-1', 'p-2', 'p-3'] },
      { shopId: 's-d2', productIds: ['p-9'] },
    ]);
    expect(await run(activities.runCampaignPage, { campaignId: delist, page: 1, callsPerPage: 50 })).toMatchObject({ calls: 2, stoppedBy: 'finished' });
    expect((await itemsOf(delist)).map((i) => i.result)).toEqual([{ delisted: 3 }, { delisted: 1 }]);
    expect([...sandbox.state.shops.get('s-d1')!.delistedProducts].sort()).toEqual(['p-1', 'p-2', 'p-3']);

    const warn = await aCampaign('warn_streamers', [{ streamerId: 'ks-88', merchantId: 'm-cmp' }]);
    expect(await run(activities.runCampaignPage, { campaignId: warn, page: 1, callsPerPage: 50 })).toMatchObject({ calls: 1, stoppedBy: 'finished' });
    const sent = sandbox.state.notifications.filter((x) => x.recipient === 'streamer');
    expect(sent).toEqual([expect.objectContaining({ recipient: 'streamer', streamerId: 'ks-88', merchantId: 'm-cmp', template: STREAMER_WARNING_TEMPLATE, data: { campaignId: warn, reason: 'forged brand authorisation' } })]);
    expect((await itemsOf(warn))[0]).toMatchObject({ state: 'done', result: { notificationId: sent[0]!.notificationId } });
  });

  test(`a platform outage ends the page with the item pending; after ${MAX_ITEM_ATTEMPTS} tries the item has failed and the rest go on`, async () => {
    const activities = createCampaignActivities({ db: t.db, platform });
    const id = await aCampaign('close_shops', [{ shopId: 's-o1' }, { shopId: 's-o2' }]);
    sandbox.state.settings.errorRate = 1;
    for (let page = 1; page < MAX_ITEM_ATTEMPTS; page += 1) {
      expect(await run(activities.runCampaignPage, { campaignId: id, page, callsPerPage: 10 })).toMatchObject({ calls: 1, stoppedBy: 'transient', progress: { pending: 2 } });
    }
    expect((await itemsOf(id))[0]).toMatchObject({ state: 'pending', attempts: MAX_ITEM_ATTEMPTS - 1 });
    expect(await run(activities.runCampaignPage, { campaignId: id, page: MAX_ITEM_ATTEMPTS, callsPerPage: 10 })).toMatchObject({ stoppedBy: 'transient', progress: { failed: 1, pending: 1 } });
    expect((await itemsOf(id))[0]).toMatchObject({ state: 'failed', attempts: MAX_ITEM_ATTEMPTS, reason: expect.stringMatching(/^5 tries: .*503/) });
    sandbox.state.settings.errorRate = 0;
    expect(await run(activities.runCampaignPage, { campaignId: id, page: MAX_ITEM_ATTEMPTS + 1, callsPerPage: 10 })).toMatchObject({ calls: 1, stoppedBy: 'finished', progress: { done: 1, failed: 1 } });
    // Every try of the failed item went under its one key: the platform never saw two requests for it.
    expect(new Set(keys.filter((k) => k.endsWith(':1')))).toEqual(new Set([`campaign:${id}:1`]));
  });

  test('two attempts of one page at once (a zombie attempt after a heartbeat timeout) make no more calls than its budget together', async () => {
    const slow: PlatformClient = { ...platform, setRestrictions: async (shopId, change, key) => { await new Promise((r) => setTimeout(r, 20)); return platform.setRestrictions(shopId, change, key); } };
    const activities = createCampaignActivities({ db: t.db, platform: slow });
    const id = await aCampaign('close_shops', Array.from({ length: 10 }, (_, i) => ({ shopId: `s-z${i}` })));
    const input = { campaignId: id, page: 1, callsPerPage: 3 };
    await Promise.all([run(activities.runCampaignPage, input), run(activities.runCampaignPage, input)]);
    expect(keys.length).toBeLessThanOrEqual(3);
  });

  test('an attempt of a page that is over (a zombie) sends nothing, and leaves the count of the page under way alone', async () => {
    const activities = createCampaignActivities({ db: t.db, platform });
    const id = await aCampaign('close_shops', Array.from({ length: 6 }, (_, i) => ({ shopId: `s-y${i}` })));
    expect(await run(activities.runCampaignPage, { campaignId: id, page: 1, callsPerPage: 2 })).toMatchObject({ calls: 2 });
    expect(await run(activities.runCampaignPage, { campaignId: id, page: 2, callsPerPage: 2 })).toMatchObject({ calls: 2 });
    expect(await run(activities.runCampaignPage, { campaignId: id, page: 1, callsPerPage: 2 })).toMatchObject({ progress: { pending: 2 } });
    // Page 2 retried: its budget is still spent.
    expect(await run(activities.runCampaignPage, { campaignId: id, page: 2, callsPerPage: 2 })).toMatchObject({ calls: 2, progress: { pending: 2 } });
    expect(keys).toHaveLength(4);
  });

  test(`a 429 is the platform's pace, not a try of the item: however many, the item stays pending and goes once the platform takes it`, async () => {
    let throttled = MAX_ITEM_ATTEMPTS + 2;
    const busy: PlatformClient = {
      ...platform,
      async delistProducts(shopId, change, key) {
        if (throttled > 0) {
          throttled -= 1;
          throw ApplicationFailure.retryable(`POST /v1/shops/${shopId}/products/delist failed with 429`, ErrorType.PlatformUnavailable, { status: 429 });
        }
        return platform.delistProducts(shopId, change, key);
      },
    };
    const activities = createCampaignActivities({ db: t.db, platform: busy });
    const id = await aCampaign('delist_products', [{ shopId: 's-t1', productIds: ['p-t1'] }]);
    for (let page = 1; page <= MAX_ITEM_ATTEMPTS + 2; page += 1) {
      expect(await run(activities.runCampaignPage, { campaignId: id, page, callsPerPage: 10 })).toMatchObject({ calls: 1, stoppedBy: 'transient', progress: { pending: 1 } });
    }
    expect(await run(activities.runCampaignPage, { campaignId: id, page: MAX_ITEM_ATTEMPTS + 3, callsPerPage: 10 })).toMatchObject({ stoppedBy: 'finished', progress: { done: 1 } });
    expect((await itemsOf(id))[0]).toMatchObject({ state: 'done', attempts: 1, result: { delisted: 1 } });
  });

  test('our access refused (401) stops the page for ops, the item left pending', async () => {
    const wrongToken = createPlatformClient({ baseUrl: sandbox.url, token: 'wrong', timeoutMs: 5_000 });
    const activities = createCampaignActivities({ db: t.db, platform: wrongToken });
    const id = await aCampaign('close_shops', [{ shopId: 's-a1' }]);
    const failure = await run(activities.runCampaignPage, { campaignId: id, page: 1, callsPerPage: 10 }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: ErrorType.PlatformRefusalNeedsOps, nonRetryable: true });
    expect((await itemsOf(id))[0]).toMatchObject({ state: 'pending', reason: null });
  });
});
