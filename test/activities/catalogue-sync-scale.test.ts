import { Client } from '@temporalio/client';
import { CATALOGUE_SYNC_WORKFLOW_TYPE, catalogueSyncWorkflowId, type CatalogueSyncResult } from '../../workflows/catalogue-sync.defs';
import { createFakePartnerGateway, storeKey } from '../support/partner-gateway-fake';
import { bindStore } from '../support/link-windows';
import { mapCategory, product, recordListings, type ListingCalls } from '../support/catalogue';
import { startStack, type Stack } from '../support/stack';

// Large enough for many pages and lanes, small enough for CI; `npm run bench:sync` takes a million.
const PRODUCTS = 10_000;
const PAGE = 1_000;

// One store's 10k products: every product written once, at most two statements per page (the diff
// by content hash, with the gone marks, then the rows that differ), and a workflow history whose
// size does not depend on the number of products.
describe('catalogue sync at scale', () => {
  let stack: Stack;
  let client: Client;
  const partners = createFakePartnerGateway();
  const calls: ListingCalls = { upserts: [] };
  const writes: string[] = [];
  beforeAll(async () => {
    stack = await startStack({}, { partners, wrapPlatform: recordListings(calls) });
    client = new Client({ connection: stack.env.connection });
    stack.db.on('query', (q: { sql: string }) => {
      // Statements of the sync that write the catalogue: the risk scan's marks on it (what it
      // judged under which list, the price it observed, the holds of a price gap) are the scan's, counted by its own tests.
      const scans = /risk_list_version|hold_reason|observed_channel_price_fen/i.test(q.sql);
      if (!scans && /(insert\s+into|update|delete\s+from)\s+"?catalogue_products\b/i.test(q.sql)) writes.push(q.sql);
    });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const sync = async (key: string) => {
    writes.length = 0;
    calls.upserts.length = 0;
    const handle = await client.workflow.start(CATALOGUE_SYNC_WORKFLOW_TYPE, {
      workflowId: catalogueSyncWorkflowId(`base:${key}`),
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ kind: 'base', startedBy: 'olga' }],
    });
    const result = (await handle.result()) as CatalogueSyncResult;
    const history = await handle.fetchHistory();
    return { result, events: history.events?.length ?? 0 };
  };

  test('10k products of one store: each written once, two statements per page at most, a small history', async () => {
    const { bindingId } = await bindStore(stack.db, 'm-scale', 'taobao', 'tb-scale');
    await mapCategory(stack.db, 'taobao', 'cat-1');
    const ids = Array.from({ length: PRODUCTS }, (_, i) => `p${String(i).padStart(6, '0')}`);
    partners.products.set(storeKey('taobao', 'tb-scale'), ids.map((id) => product(id)));

    const started = Date.now();
    const first = await sync('scale-1');
    const firstMs = Date.now() - started;
    const pages = PRODUCTS / PAGE;
    expect(first.result).toMatchObject({ storesDone: 1 });
    expect(await stack.db('catalogue_sync_stores').where({ run_id: first.result.runId }).first()).toMatchObject({ fetched: PRODUCTS, inserted: PRODUCTS, listed: PRODUCTS });
    // Every product sent once, 200 a call.
    const sent = calls.upserts.flatMap((c) => c.change.listings.map((l) => l.productId));
    expect(sent.length).toBe(PRODUCTS);
    expect(new Set(sent).size).toBe(PRODUCTS);
    expect(calls.upserts.length).toBe(PRODUCTS / 200);
    // Two statements per page (the diff, then the new rows), plus the store's closing write (listed marks).
    expect(writes.length).toBe(2 * pages + 1);
    expect(await stack.db('catalogue_products').where({ binding_id: bindingId, listing_status: 'listed' }).count('* as n').first()).toEqual({ n: PRODUCTS });
    // The store's risk scan judged every new product, page after page.
    expect(await stack.db('catalogue_products').where({ binding_id: bindingId }).whereNotNull('risk_judged_on').count('* as n').first()).toEqual({ n: PRODUCTS });

    // Nothing changed: one statement per page (the diff, writing nothing), nothing sent, and no
    // listed marks to write at the store's close.
    const again = await sync('scale-2');
    expect(await stack.db('catalogue_sync_stores').where({ run_id: again.result.runId }).first()).toMatchObject({ fetched: PRODUCTS, unchanged: PRODUCTS, listed: 0 });
    expect(calls.upserts).toEqual([]);
    expect(writes.length).toBe(pages);
    // A few dozen events whatever the product count (two lanes: each runs at least one batch).
    // Not an exact count: how many activity results share one workflow task depends on timing.
    expect(first.events).toBeLessThan(60);
    expect(again.events).toBeLessThan(60);

    // Every price changes: every product updated and sent once more, two statements per page.
    partners.products.set(storeKey('taobao', 'tb-scale'), ids.map((id) => product(id, { channelPriceFen: 9_000 })));
    const changedAt = Date.now();
    const changed = await sync('scale-3');
    const changedMs = Date.now() - changedAt;
    expect(await stack.db('catalogue_sync_stores').where({ run_id: changed.result.runId }).first()).toMatchObject({ fetched: PRODUCTS, updated: PRODUCTS, unchanged: 0, listed: PRODUCTS });
    expect(new Set(calls.upserts.flatMap((c) => c.change.listings.map((l) => l.productId))).size).toBe(PRODUCTS);
    expect(writes.length).toBe(2 * pages + 1);
    expect(changed.events).toBeLessThan(60);
    // eslint-disable-next-line no-console -- the figure the report quotes
    console.log(`catalogue sync: ${PRODUCTS} new products in ${firstMs} ms, all changed in ${changedMs} ms, ${first.events} history events`);
  }, 300_000);
});
