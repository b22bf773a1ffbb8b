import request from 'supertest';
import { shanghaiDate } from '../../domain/calendar';
import { eventually } from '../support/fixtures';
import { bindStore } from '../support/link-windows';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api, type AuditRow } from './http';

const DAY = 24 * 60 * 60 * 1000;
const dayIn = (days: number) => shanghaiDate(new Date(Date.now() + days * DAY));
const aWindow = (over: Record<string, unknown> = {}) => ({ partner: 'jd', linkKind: 'self_operated', opensOn: dayIn(30), closesOn: dayIn(40), phases: [], source: 'JD Union announcement', ...over });
const aLink = (bindingId: string, over: Record<string, unknown> = {}) => ({ bindingId, linkKind: 'self_operated', productId: 'jd-100012043978', url: 'https://item.jd.com/100012043978.html', ...over });

describe('link windows and partner links through the API', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  // The outcome row is written as the answer ends: wait for the count expected.
  const auditOf = (target: string, rows = 1) => eventually(() => stack.db<AuditRow>('audit_log').where({ target }).orderBy('id'), (found) => found.length >= rows);

  test.each([
    ['a merchant', merchant('m-1')],
    ['a reviewer', staff.reviewer],
    ['finance', staff.finance],
  ])('%s may neither read nor keep windows (403), and nothing is added', async (_name, who) => {
    expect((await api.get('/v1/link-windows', who)).status).toBe(403);
    expect((await api.post('/v1/link-windows', who, aWindow({ partner: 'pinduoduo' }))).status).toBe(403);
    expect(await stack.db('link_windows').where({ partner: 'pinduoduo' })).toHaveLength(0);
  });

  test('ops may not list a merchant\'s link (403)', async () => {
    expect((await api.post('/v1/partner-links', staff.ops, aLink('bnd-any'))).status).toBe(403);
  });

  test.each([
    ['a day that does not exist', { opensOn: '2026-02-29' }, 'opensOn'],
    ['a day with a time', { closesOn: '2026-01-01T00:00:00+08:00' }, 'closesOn'],
    ['an unknown partner', { partner: 'amazon' }, 'partner'],
    ['an unknown kind', { linkKind: 'any' }, 'linkKind'],
    ['no source', { source: '' }, 'source'],
    ['another field', { version: 3 }, '(root)'],
  ])('%s is a 400 naming the field', async (_name, over, field) => {
    const res = await api.post('/v1/link-windows', staff.ops, aWindow({ partner: 'youzan', ...over }));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(field);
  });

  test('ops add a window (audited), read it with its versions and progress, change its dates (a new version) and are refused dates that break a rule', async () => {
    const created = await api.post('/v1/link-windows', staff.ops, aWindow());
    expect(created.status).toBe(201);
    const windowId = created.body.windowId as string;
    expect(created.headers.location).toBe(`/v1/link-windows/${windowId}`);
    expect(created.body).toMatchObject({ status: 'scheduled', version: 1, workflowId: `link-window:${windowId}`, createdBy: 'olga', progress: { toPublish: 0, live: 0 } });
    expect((await auditOf(`link-window:${windowId}`)).map((r) => [r.action, r.outcome])).toEqual([['link_window.create', 'succeeded']]);

    const overlapping = await api.post('/v1/link-windows', staff.admin, aWindow({ opensOn: dayIn(40), closesOn: dayIn(45) }));
    expect(overlapping.status).toBe(422);
    expect(overlapping.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(overlapping.body).toMatchObject({ code: 'link_window_refused', reason: 'overlaps', windowId });
    expect((await api.post('/v1/link-windows', staff.ops, aWindow({ opensOn: dayIn(50), closesOn: dayIn(49) }))).body).toMatchObject({ status: 422, reason: 'closes_before_opens' });
    expect((await api.post('/v1/link-windows', staff.ops, aWindow({ opensOn: dayIn(-1), closesOn: dayIn(1) }))).body).toMatchObject({ status: 422, reason: 'opening_in_past' });

    const changed = await api.post(`/v1/link-windows/${windowId}/versions`, staff.ops, { opensOn: dayIn(31), closesOn: dayIn(35), phases: [{ name: 'preview', from: dayIn(31) }, { name: 'full', from: dayIn(32) }], source: 'a later notice' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ version: 2, opensOn: dayIn(31), closesOn: dayIn(35), versions: [{ version: 1, source: 'JD Union announcement' }, { version: 2, source: 'a later notice', changedBy: 'olga' }] });
    expect((await auditOf(`link-window:${windowId}`, 2)).map((r) => [r.action, r.outcome])).toEqual([
      ['link_window.create', 'succeeded'],
      ['link_window.change', 'succeeded'],
    ]);
    await eventually(() => stack.env.client.workflow.getHandle(`link-window:${windowId}`).query('state') as Promise<{ plan: { version: number } }>, (s) => s.plan.version === 2);

    const listed = await api.get('/v1/link-windows?limit=50', staff.admin);
    expect(listed.body.items.map((w: { windowId: string }) => w.windowId)).toContain(windowId);
    expect((await api.get(`/v1/link-windows/${windowId}`, staff.ops)).body).toMatchObject({ windowId, version: 2, status: 'scheduled' });
    expect((await api.get('/v1/link-windows/lw_000000000000000000000000', staff.ops)).status).toBe(404);

    const nothingWaits = await api.post(`/v1/link-windows/${windowId}/attention`, staff.ops, { action: 'retry' });
    expect(nothingWaits.status).toBe(409);
    expect(nothingWaits.body.detail).toMatch(/nothing is waiting for ops/);
    expect((await api.get(`/v1/link-windows/${windowId}`, staff.ops)).body.attention).toBeNull();

    const cancelled = await api.post(`/v1/link-windows/${windowId}/cancel`, staff.ops, { reason: 'the partner withdrew' });
    expect(cancelled.status).toBe(200);
    await eventually(() => api.get(`/v1/link-windows/${windowId}`, staff.ops), (r) => r.body.status === 'cancelled');
    expect((await api.post(`/v1/link-windows/${windowId}/versions`, staff.ops, { opensOn: dayIn(31), closesOn: dayIn(36), phases: [], source: 'x' })).status).toBe(409);
  });

  test('a create retried under its Idempotency-Key answers the first answer and adds nothing', async () => {
    const token = await stack.token(staff.ops);
    const send = () => request(stack.app).post('/v1/link-windows').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', 'lw-retry-0001').send(aWindow({ partner: 'youzan', linkKind: 'union_product' }));
    const first = await send();
    expect(first.status).toBe(201);
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.windowId).toBe(first.body.windowId);
    expect(await stack.db('link_windows').where({ partner: 'youzan' })).toHaveLength(1);
  });

  test('two overlapping windows added at once: one is recorded, the other refused, and only one process starts', async () => {
    const both = await Promise.all([0, 1].map(() => api.post('/v1/link-windows', staff.ops, aWindow({ partner: 'pinduoduo', linkKind: 'union_product', opensOn: dayIn(60), closesOn: dayIn(70) }))));
    expect(both.map((r) => r.status).sort()).toEqual([201, 422]);
    expect(await stack.db('link_windows').where({ partner: 'pinduoduo', link_kind: 'union_product' })).toHaveLength(1);
  });

  test('a listing outside an open window is refused naming the window that would allow it, or none; inside one it goes live', async () => {
    const { bindingId } = await bindStore(stack.db, 'm-links', 'tmall', 'tm-1');
    const me = merchant('m-links');
    const none = await api.post('/v1/partner-links', me, aLink(bindingId, { linkKind: 'short_video_live' }));
    expect(none.status).toBe(409);
    expect(none.body).toMatchObject({ code: 'link_window_closed', partner: 'tmall', linkKind: 'short_video_live', allowingWindow: null });
    expect((await auditOf(`store-binding:${bindingId}`)).map((r) => [r.action, r.outcome, r.status_code])).toEqual([['partner_link.list', 'refused', 409]]);

    const later = await api.post('/v1/link-windows', staff.ops, aWindow({ partner: 'tmall', linkKind: 'short_video_live', opensOn: dayIn(10), closesOn: dayIn(20) }));
    const refused = await api.post('/v1/partner-links', me, aLink(bindingId, { linkKind: 'short_video_live' }));
    expect(refused.body).toMatchObject({ code: 'link_window_closed', allowingWindow: { windowId: later.body.windowId, opensOn: dayIn(10), closesOn: dayIn(20) } });

    const open = await api.post('/v1/link-windows', staff.ops, aWindow({ partner: 'tmall', linkKind: 'short_video_live', opensOn: dayIn(0), closesOn: dayIn(5) }));
    expect(open.status).toBe(201);
    await eventually(() => api.get(`/v1/link-windows/${open.body.windowId}`, staff.ops), (r) => r.body.status === 'open');
    const accepted = await api.post('/v1/partner-links', me, aLink(bindingId, { linkKind: 'short_video_live' }));
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ status: 'listed', windowId: open.body.windowId, merchantId: 'm-links', platform: 'tmall', storeId: 'tm-1' });
    expect((await auditOf(`partner-link:${accepted.body.linkId}`)).map((r) => [r.action, r.outcome])).toEqual([['partner_link.list', 'succeeded']]);
    expect((await api.post('/v1/partner-links', me, aLink(bindingId, { linkKind: 'short_video_live' }))).status).toBe(409);

    await eventually(() => api.get('/v1/partner-links', me), (r) => r.body.items[0]?.status === 'live');
    expect([...stack.sandbox.state.shops.get('shop-m-links')!.partnerLinks]).toEqual([accepted.body.linkId]);
  });

  test("a merchant lists links for its own bindings only, and sees only its own links", async () => {
    const theirs = await bindStore(stack.db, 'm-owner', 'jd', 'jd-owner');
    await bindStore(stack.db, 'm-intruder', 'jd', 'jd-intruder');
    const intruding = await api.post('/v1/partner-links', merchant('m-intruder'), aLink(theirs.bindingId));
    const missing = await api.post('/v1/partner-links', merchant('m-intruder'), aLink('bnd-nothing'));
    expect(intruding.status).toBe(404);
    expect(intruding.body.detail).toBe(missing.body.detail.replace('bnd-nothing', theirs.bindingId));
    await stack.db('partner_links').insert({ id: 'pl_owned', binding_id: theirs.bindingId, merchant_id: 'm-owner', shop_id: theirs.shopId, platform: 'jd', store_id: 'jd-owner', link_kind: 'self_operated', product_id: 'p-1', url: 'https://item.jd.com/1.html', status: 'down', listed_by: 'u-m-owner' });
    expect((await api.get('/v1/partner-links', merchant('m-intruder'))).body.items).toEqual([]);
    expect((await api.get('/v1/partner-links', merchant('m-owner'))).body.items.map((l: { linkId: string }) => l.linkId)).toEqual(['pl_owned']);
    expect((await api.get('/v1/partner-links?merchantId=m-owner', merchant('m-intruder'))).status).toBe(404);
    expect((await api.get('/v1/partner-links?merchantId=m-owner', staff.ops)).body.items).toHaveLength(1);
  });
});
