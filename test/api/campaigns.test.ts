import request from 'supertest';
import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api, type AuditRow } from './http';

const aCampaign = (over: Record<string, unknown> = {}) => ({ kind: 'close_shops', reason: 'forged brand authorisation', ratePerMinute: 6000, items: [{ shopId: 's-c1' }, { shopId: 's-c2' }], ...over });

describe('campaigns through the API', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const auditOf = (target: string, rows = 1) => eventually(() => stack.db<AuditRow>('audit_log').where({ target }).orderBy('id'), (found) => found.length >= rows);
  const viewOf = (campaignId: string) => api.get(`/v1/campaigns/${campaignId}`, staff.ops);

  test.each([
    ['a merchant', merchant('m-1')],
    ['a reviewer', staff.reviewer],
    ['finance', staff.finance],
  ])('%s may neither start nor read campaigns (403), and nothing is recorded', async (_name, who) => {
    expect((await api.post('/v1/campaigns', who, aCampaign({ reason: 'not allowed' }))).status).toBe(403);
    expect((await api.get('/v1/campaigns', who)).status).toBe(403);
    expect(await stack.db('campaigns').where({ reason: 'not allowed' })).toHaveLength(0);
  });

  test("a merchant's large body is held to the usual limit (413): only ops and admin get a campaign's 8 MB parsed", async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ shopId: `s-m-${i}` }));
    expect((await api.post('/v1/campaigns', merchant('m-1'), aCampaign({ items }))).status).toBe(413);
    expect((await api.post('/v1/campaigns', staff.ops, aCampaign({ items: [...items, { shopId: 's-m-0' }] }))).status).toBe(400);
  });

  test.each([
    ['an unknown kind', { kind: 'ban_everyone' }, 'kind'],
    ['no items', { items: [] }, 'items'],
    ['items of another kind', { items: [{ streamerId: 'ks-1', merchantId: 'm-1' }] }, 'items.0'],
    ['a shop id with a space', { items: [{ shopId: 's 1' }] }, 'items.0.shopId'],
    ['a rate above the bound', { ratePerMinute: 6001 }, 'ratePerMinute'],
    ['201 products in one item', { kind: 'delist_products', items: [{ shopId: 's-1', productIds: Array.from({ length: 201 }, (_, i) => `p-${i}`) }] }, 'items.0.productIds'],
    ['another field', { priority: 'high' }, '(root)'],
    ['the same shop twice', { items: [{ shopId: 's-1' }, { shopId: 's-2' }, { shopId: 's-1' }] }, 'items.2'],
    ['a product twice in one item', { kind: 'delist_products', items: [{ shopId: 's-1', productIds: ['p-1', 'p-1'] }] }, 'items.0.productIds.1'],
    [
      "a shop's product in two items",
      { kind: 'delist_products', items: [{ shopId: 's-1', productIds: ['p-1', 'p-2'] }, { shopId: 's-2', productIds: ['p-1'] }, { shopId: 's-1', productIds: ['p-3', 'p-2'] }] },
      'items.2.productIds.1',
    ],
    ['a reason with a NUL', { reason: 'forged\u0000' }, 'reason'],
    ['a reason with a lone surrogate', { reason: 'forged \ud800' }, 'reason'],
  ])('%s is a 400 naming the field, and nothing is recorded', async (_name, over, field) => {
    const before = Number((await stack.db('campaigns').count({ n: '*' }))[0]!.n);
    const res = await api.post('/v1/campaigns', staff.ops, aCampaign(over));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(field);
    expect(Number((await stack.db('campaigns').count({ n: '*' }))[0]!.n)).toBe(before);
  });

  test('ids that only look alike joined are different targets: one streamer "a:b" about "c", another "a" about "b:c"', async () => {
    const items = [
      { streamerId: 'ks-a:b', merchantId: 'm-c' },
      { streamerId: 'ks-a', merchantId: 'b:m-c' },
    ];
    const created = await api.post('/v1/campaigns', staff.ops, aCampaign({ kind: 'warn_streamers', items }));
    expect(created.status).toBe(201);
    expect(created.body.progress.total).toBe(2);
  });

  test('50,000 shop ids are one campaign, every item recorded before its start; one more is a 400', async () => {
    const items = Array.from({ length: 50_001 }, (_, i) => ({ shopId: `s-big-${i}` }));
    const tooMany = await api.post('/v1/campaigns', staff.ops, aCampaign({ items, ratePerMinute: 1 }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.issues.map((i: { path: string }) => i.path)).toContain('items');

    const created = await api.post('/v1/campaigns', staff.ops, aCampaign({ items: items.slice(0, 50_000), ratePerMinute: 1 }));
    expect(created.status).toBe(201);
    expect(created.body.progress).toMatchObject({ total: 50_000 });
    const campaignId = created.body.campaignId as string;
    expect(Number((await stack.db('campaign_items').where({ campaign_id: campaignId }).count({ n: '*' }))[0]!.n)).toBe(50_000);
    expect((await api.post(`/v1/campaigns/${campaignId}/cancel`, staff.ops, {})).status).toBe(200);
    const ended = await eventually(() => viewOf(campaignId), (res) => res.body.state === 'cancelled');
    expect(ended.body.summary).toMatchObject({ total: 50_000, notTried: 50_000 - ended.body.summary.done, outcome: 'cancelled' });
  });

  test('ops start a campaign (audited); it runs to its summary; every item is readable, filtered by state', async () => {
    const created = await api.post('/v1/campaigns', staff.ops, aCampaign({ items: [{ shopId: 's-c1' }, { shopId: 's-c2' }, { shopId: 's-c3' }] }));
    expect(created.status).toBe(201);
    const campaignId = created.body.campaignId as string;
    expect(created.headers.location).toBe(`/v1/campaigns/${campaignId}`);
    expect(created.body).toMatchObject({ kind: 'close_shops', state: 'running', createdBy: 'olga', workflowId: `campaign:${campaignId}`, progress: { total: 3 } });
    const [row] = await auditOf(`campaign:${campaignId}`);
    expect(row).toMatchObject({ action: 'campaign.create', outcome: 'succeeded', actor_sub: 'olga', details: expect.objectContaining({ kind: 'close_shops', items: 3, ratePerMinute: 6000 }) });

    const ended = await eventually(() => viewOf(campaignId), (res) => res.body.state === 'completed');
    expect(ended.body).toMatchObject({ progress: { total: 3, done: 3, refused: 0, failed: 0, pending: 0 }, summary: { kind: 'close_shops', done: 3, notTried: 0, outcome: 'completed' } });
    expect([...stack.sandbox.state.shops.get('s-c2')!.restrictions].sort()).toEqual(['close_cart', 'stop_listing', 'stop_sales']);

    const first = await api.get(`/v1/campaigns/${campaignId}/items?limit=2`, staff.admin);
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: { position: number; shopId: string; state: string }) => [i.position, i.shopId, i.state])).toEqual([
      [1, 's-c1', 'done'],
      [2, 's-c2', 'done'],
    ]);
    const rest = await api.get(`/v1/campaigns/${campaignId}/items?limit=2&cursor=${first.body.nextCursor}`, staff.admin);
    expect(rest.body).toMatchObject({ items: [{ position: 3, state: 'done', result: { inForce: ['close_cart', 'stop_listing', 'stop_sales'] } }], nextCursor: null });
    expect((await api.get(`/v1/campaigns/${campaignId}/items?state=refused`, staff.ops)).body).toEqual({ items: [], nextCursor: null });
    // A cursor of another filter is refused, not misread.
    expect((await api.get(`/v1/campaigns/${campaignId}/items?state=done&cursor=${first.body.nextCursor}`, staff.ops)).status).toBe(400);

    // Ended: a pause is a 409 and audited as refused.
    const late = await api.post(`/v1/campaigns/${campaignId}/pause`, staff.ops, {});
    expect(late.status).toBe(409);
    expect((await auditOf(`campaign:${campaignId}`, 2)).map((r) => [r.action, r.outcome])).toEqual([
      ['campaign.create', 'succeeded'],
      ['campaign.pause', 'refused'],
    ]);
    expect((await api.get('/v1/campaigns?limit=200', staff.admin)).body.items.map((c: { campaignId: string }) => c.campaignId)).toContain(campaignId);
  });

  test('ops pause, resume and cancel a slow campaign, each audited; the summary counts what was never tried', async () => {
    const created = await api.post('/v1/campaigns', staff.admin, aCampaign({ kind: 'warn_streamers', ratePerMinute: 1, items: [1, 2, 3].map((i) => ({ streamerId: `ks-${i}`, merchantId: 'm-1' })) }));
    expect(created.status).toBe(201);
    const campaignId = created.body.campaignId as string;
    // One call a minute: the first warning goes, then the process waits out the minute.
    await eventually(() => viewOf(campaignId), (res) => res.body.progress.done === 1);

    const paused = await api.post(`/v1/campaigns/${campaignId}/pause`, staff.ops, { reason: 'checking a complaint' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ state: 'paused', stateChangedBy: 'olga', stateReason: 'checking a complaint' });
    expect((await api.post(`/v1/campaigns/${campaignId}/pause`, staff.ops, {})).status).toBe(409);
    const resumed = await api.post(`/v1/campaigns/${campaignId}/resume`, staff.ops, {});
    expect(resumed.body).toMatchObject({ state: 'running', stateChangedBy: 'olga', stateReason: null });
    expect((await api.post(`/v1/campaigns/${campaignId}/cancel`, staff.ops, { reason: 'enough' })).status).toBe(200);

    const ended = await eventually(() => viewOf(campaignId), (res) => res.body.state === 'cancelled');
    expect(ended.body.summary).toEqual({ kind: 'warn_streamers', total: 3, done: 1, refused: 0, failed: 0, notTried: 2, outcome: 'cancelled' });
    expect((await api.get(`/v1/campaigns/${campaignId}/items?state=pending`, staff.ops)).body.items.map((i: { streamerId: string }) => i.streamerId)).toEqual(['ks-2', 'ks-3']);
    expect(stack.sandbox.state.notifications.filter((n) => n.recipient === 'streamer' && n.data?.campaignId === campaignId).map((n) => n.streamerId)).toEqual(['ks-1']);
    const audited = await auditOf(`campaign:${campaignId}`, 5);
    expect(audited.map((r) => [r.action, r.outcome, r.actor_sub])).toEqual([
      ['campaign.create', 'succeeded', 'ada'],
      ['campaign.pause', 'succeeded', 'olga'],
      ['campaign.pause', 'refused', 'olga'],
      ['campaign.resume', 'succeeded', 'olga'],
      ['campaign.cancel', 'succeeded', 'olga'],
    ]);
    expect(audited[1]!.details).toMatchObject({ reason: 'checking a complaint' });
  });

  test('the same Idempotency-Key and list is one campaign; the key with another list is a 409', async () => {
    const post = async (key: string, body: object) =>
      request(stack.app).post('/v1/campaigns').set('Authorization', `Bearer ${await stack.token(staff.ops)}`).set('Idempotency-Key', key).send(body);
    const body = aCampaign({ reason: 'idempotent start', items: [{ shopId: 's-idem' }] });
    const first = await post('cmp-idem-0001', body);
    const again = await post('cmp-idem-0001', body);
    expect(first.status).toBe(201);
    expect(again.body.campaignId).toBe(first.body.campaignId);
    expect(await stack.db('campaigns').where({ reason: 'idempotent start' })).toHaveLength(1);
    expect((await post('cmp-idem-0001', { ...body, items: [{ shopId: 's-other' }] })).status).toBe(409);
  });

  test('an unknown campaign is a 404; a malformed id a 400', async () => {
    expect((await viewOf('cmp_0123456789abcdef01234567')).status).toBe(404);
    expect((await api.get('/v1/campaigns/not-an-id/items', staff.ops)).status).toBe(400);
    expect((await api.post('/v1/campaigns/cmp_0123456789abcdef01234567/cancel', staff.ops, {})).status).toBe(404);
  });

  test('the routes are in the OpenAPI document', async () => {
    const doc = (await request(stack.app).get('/openapi.json')).body as { paths: Record<string, unknown> };
    for (const path of ['/v1/campaigns', '/v1/campaigns/{campaignId}', '/v1/campaigns/{campaignId}/items', '/v1/campaigns/{campaignId}/pause', '/v1/campaigns/{campaignId}/resume', '/v1/campaigns/{campaignId}/cancel']) {
      expect(doc.paths[path]).toBeDefined();
    }
  });
});
