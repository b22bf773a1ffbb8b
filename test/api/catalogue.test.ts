import { Client } from '@temporalio/client';
import { CATALOGUE_SYNC_WORKFLOW_TYPE, catalogueSyncWorkflowId, type CatalogueSyncResult } from '../../workflows/catalogue-sync.defs';
import { eventually } from '../support/fixtures';
import { bindStore } from '../support/link-windows';
import { createFakePartnerGateway, storeKey } from '../support/partner-gateway-fake';
import { product, recordListings } from '../support/catalogue';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api, type AuditRow } from './http';

const aMapping = (over: Record<string, unknown> = {}) => ({ partnerPlatform: 'taobao', partnerCategory: 'cat-1', ksCategory: 'ks-1', requiredAttributes: ['brand'], specialClass: 'none', reason: 'first mapping', ...over });

describe('catalogue through the API', () => {
  let stack: Stack;
  let api: Api;
  const partners = createFakePartnerGateway();
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' }, { partners, wrapPlatform: recordListings({ upserts: [] }) });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const auditOf = (target: string, rows = 1) => eventually(() => stack.db<AuditRow>('audit_log').where({ target }).orderBy('id'), (found) => found.length >= rows);

  test('ops keep category mappings: each change a new version, audited; the list shows the version in effect or all', async () => {
    const first = await api.post('/v1/category-mappings', staff.ops, aMapping());
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ partnerPlatform: 'taobao', partnerCategory: 'cat-1', version: 1, ksCategory: 'ks-1', changedBy: staff.ops.sub });
    const second = await api.post('/v1/category-mappings', staff.ops, aMapping({ ksCategory: 'ks-2', specialClass: 'cosmetics', reason: 'moved' }));
    expect(second.body).toMatchObject({ version: 2, ksCategory: 'ks-2', specialClass: 'cosmetics' });
    expect((await auditOf('category-mapping:taobao:cat-1', 2)).map((r) => [r.action, r.outcome])).toEqual([
      ['category_mapping.change', 'succeeded'],
      ['category_mapping.change', 'succeeded'],
    ]);
    const current = await api.get('/v1/category-mappings?partnerPlatform=taobao', staff.ops);
    expect(current.body.items.map((m: { version: number }) => m.version)).toEqual([2]);
    const all = await api.get('/v1/category-mappings?partnerPlatform=taobao&history=true', staff.ops);
    expect(all.body.items.map((m: { version: number }) => m.version)).toEqual([1, 2]);
  });

  test.each([
    ['an unknown field', { extra: 1 }],
    ['a category with a space', { partnerCategory: 'cat 1' }],
    ['an unknown special class', { specialClass: 'toys' }],
    ['no reason', { reason: undefined }],
  ])('a mapping with %s is refused (400), nothing added', async (_name, over) => {
    const res = await api.post('/v1/category-mappings', staff.ops, aMapping({ partnerPlatform: 'jd', ...over }));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await stack.db('category_mappings').where({ partner_platform: 'jd' })).toHaveLength(0);
  });

  test('merchants may not keep mappings or read runs (403)', async () => {
    expect((await api.post('/v1/category-mappings', merchant('m-x'), aMapping({ partnerPlatform: 'pinduoduo' }))).status).toBe(403);
    expect((await api.get('/v1/catalogue/sync-runs', merchant('m-x'))).status).toBe(403);
  });

  test('runs with failures by class, their stores with skip reasons, and a binding\'s products with what to fix', async () => {
    const mine = await bindStore(stack.db, 'm-cat-1', 'taobao', 'tb-cat-1');
    const skipped = await bindStore(stack.db, 'm-cat-2', 'taobao', 'tb-cat-2');
    await stack.db('store_bindings').where({ id: skipped.bindingId }).update({ status: 'needs_reauth', sync_enabled: false });
    // cat-1 maps to cosmetics by now (the test before): each product carries its filing number.
    partners.products.set(storeKey('taobao', 'tb-cat-1'), ['p1', 'p2', 'p3'].map((id) => product(id, { filingNumber: 'F-1', ...(id === 'p1' ? { attributes: {} } : id === 'p3' ? { category: 'cat-none' } : {}) })));
    const result = (await new Client({ connection: stack.env.connection }).workflow.execute(CATALOGUE_SYNC_WORKFLOW_TYPE, {
      workflowId: catalogueSyncWorkflowId('base:api'),
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ kind: 'base', startedBy: 'olga' }],
    })) as CatalogueSyncResult;

    const runs = await api.get('/v1/catalogue/sync-runs', staff.ops);
    expect(runs.status).toBe(200);
    expect(runs.body.items[0]).toMatchObject({ runId: result.runId, kind: 'base', startedBy: 'olga', storesDone: 1, storesSkipped: 1, failedByClass: { attributes_missing: 1, category_unmapped: 1 } });

    const stores = await api.get(`/v1/catalogue/sync-runs/${encodeURIComponent(result.runId)}/stores`, staff.ops);
    expect(stores.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ bindingId: skipped.bindingId, status: 'skipped', reason: 'needs_reauth' }),
        expect.objectContaining({ bindingId: mine.bindingId, status: 'synced', fetched: 3, listed: 1, failedByClass: { attributes_missing: 1, category_unmapped: 1 } }),
      ]),
    );
    expect((await api.get('/v1/catalogue/sync-runs/catalogue-sync:none/stores', staff.ops)).status).toBe(404);

    const products = await api.get(`/v1/bindings/${mine.bindingId}/products?limit=2`, merchant('m-cat-1'));
    expect(products.status).toBe(200);
    expect(products.body.items.map((p: { productId: string; listingStatus: string }) => [p.productId, p.listingStatus])).toEqual([
      ['p1', 'failed'],
      ['p2', 'listed'],
    ]);
    expect(products.body.items[0].failures).toEqual([{ class: 'attributes_missing', reason: 'required attributes missing: brand', fix: 'fill brand on the partner' }]);
    const next = await api.get(`/v1/bindings/${mine.bindingId}/products?limit=2&cursor=${products.body.nextCursor}`, merchant('m-cat-1'));
    expect(next.body).toMatchObject({ items: [{ productId: 'p3', listingStatus: 'failed', failures: [{ class: 'category_unmapped' }] }], nextCursor: null });
    expect((await api.get(`/v1/bindings/${mine.bindingId}/products`, staff.ops)).status).toBe(200);
    // Another merchant's binding is one that does not exist.
    expect((await api.get(`/v1/bindings/${mine.bindingId}/products`, merchant('m-cat-2'))).status).toBe(404);
  });
});
