import type { Knex } from 'knex';
import { findingKey } from '../../domain/catalogue-risks';
import { bindStore } from '../support/link-windows';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectProblem, merchant, staff, type Api, type AuditRow } from './http';
import { eventually } from '../support/fixtures';

/** A finding as a scan records it. */
async function found(db: Knex, b: { bindingId: string; shopId: string; merchantId: string }, productId: string, kind: 'price_gap' | 'banned_words', day: string, status: 'open' | 'fixed' = 'open') {
  const key = findingKey(b.bindingId, productId, kind, day);
  await db('risk_findings').insert({
    key,
    binding_id: b.bindingId,
    product_id: productId,
    merchant_id: b.merchantId,
    shop_id: b.shopId,
    kind,
    day,
    details: JSON.stringify(kind === 'banned_words' ? { words: [{ word: '第一', fields: ['title'] }], listVersion: 1 } : { channelPriceFen: 11_001, partnerPriceFen: 10_000 }),
    sync_run_id: 'run-1',
    status,
    found_at: new Date(`${day}T01:00:00Z`),
    fixed_at: status === 'fixed' ? new Date(`${day}T08:00:00Z`) : null,
  });
  return key;
}

describe('risk routes: the banned-word list and the findings', () => {
  let stack: Stack;
  let api: Api;
  const a = { merchantId: 'm-risk-a', shopId: '', bindingId: '' };
  const b = { merchantId: 'm-risk-b', shopId: '', bindingId: '' };

  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
    Object.assign(a, await bindStore(stack.db, a.merchantId, 'youzan', 'store-a'));
    Object.assign(b, await bindStore(stack.db, b.merchantId, 'taobao', 'store-b'));
    await found(stack.db, a, 'p-1', 'banned_words', '2026-03-01');
    await found(stack.db, a, 'p-2', 'price_gap', '2026-03-02', 'fixed');
    await found(stack.db, a, 'p-3', 'price_gap', '2026-03-03');
    await found(stack.db, b, 'p-9', 'banned_words', '2026-03-04');
  }, 120_000);
  afterAll(async () => {
    await stack?.teardown();
  });

  test('ops read the list at version 1, seeded from the Advertising Law', async () => {
    const res = await api.get('/v1/banned-words', staff.ops);
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    expect(res.body.words).toEqual(expect.arrayContaining(['最佳', '最好', '第一', '国家级', '100%', '全网最低']));
    expect(res.body.versions[0]).toMatchObject({ version: 1, addedBy: 'system', source: expect.stringContaining('广告法') });
  });

  test('ops add words: a new version, audited; words already listed add nothing', async () => {
    const res = await api.post('/v1/banned-words', staff.ops, { words: ['  史上最强 ', '第一', '特效'], source: 'platform notice 2026-12' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ version: 2, added: ['史上最强', '特效'] });
    const audit = await eventually(() => stack.db<AuditRow>('audit_log').where({ target: 'banned_words:v2' }), (rows) => rows.length > 0);
    expect(audit[0]).toMatchObject({ action: 'banned_words.add', actor_sub: staff.ops.sub, outcome: 'succeeded' });

    const again = await api.post('/v1/banned-words', staff.admin, { words: ['特效'], source: 'again' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ version: 2, added: [] });
    const list = await api.get('/v1/banned-words', staff.admin);
    expect(list.body.version).toBe(2);
    expect(list.body.words).toEqual(expect.arrayContaining(['史上最强', '特效']));
    expect(list.body.versions.map((v: { version: number; addedBy: string }) => [v.version, v.addedBy])).toEqual([
      [1, 'system'],
      [2, staff.ops.sub],
    ]);
  });

  test.each([
    ['an empty list', { words: [], source: 's' }],
    ['a blank word', { words: ['   '], source: 's' }],
    ['a word over 20 characters', { words: ['长'.repeat(21)], source: 's' }],
    ['a word on two lines', { words: ['a\nb'], source: 's' }],
    ['a word that cannot be stored', { words: ['bad\u0000'], source: 's' }],
    ['no source', { words: ['特效'] }],
    ['an unknown field', { words: ['特效'], source: 's', version: 9 }],
  ])('%s is refused with 400 and no new version', async (_name, body) => {
    const res = await api.post('/v1/banned-words', staff.ops, body);
    expectProblem(res, 400, 'invalid_request', { issues: expect.any(Array) });
    expect(await stack.db('banned_word_versions').max('version as v').first()).toEqual({ v: 2 });
  });

  test.each([
    ['merchant', merchant('m-risk-a')],
    ['reviewer', staff.reviewer],
    ['finance', staff.finance],
  ] as const)('a %s may not read or change the list', async (_role, claims) => {
    expect((await api.get('/v1/banned-words', claims)).status).toBe(403);
    expect((await api.post('/v1/banned-words', claims, { words: ['特效'], source: 's' })).status).toBe(403);
  });

  test('findings are listed newest first, paged, filtered by kind, status and shop', async () => {
    const page1 = await api.get('/v1/risk-findings?limit=2', staff.ops);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((f: { productId: string }) => f.productId)).toEqual(['p-9', 'p-3']);
    const page2 = await api.get(`/v1/risk-findings?limit=2&cursor=${page1.body.nextCursor}`, staff.ops);
    expect(page2.body.items.map((f: { productId: string }) => f.productId)).toEqual(['p-2', 'p-1']);
    expect(page2.body.nextCursor).toBeNull();

    const gaps = await api.get('/v1/risk-findings?kind=price_gap&status=open', staff.reviewer);
    expect(gaps.body.items).toEqual([
      expect.objectContaining({ key: findingKey(a.bindingId, 'p-3', 'price_gap', '2026-03-03'), day: '2026-03-03', status: 'open', caseId: null, details: { channelPriceFen: 11_001, partnerPriceFen: 10_000 } }),
    ]);
    const ofShop = await api.get(`/v1/risk-findings?shopId=${b.shopId}`, staff.finance);
    expect(ofShop.body.items.map((f: { productId: string }) => f.productId)).toEqual(['p-9']);
  });

  test("a merchant sees its own findings only; naming another merchant is answered as missing", async () => {
    const own = await api.get('/v1/risk-findings', merchant(a.merchantId));
    expect(own.body.items.map((f: { productId: string }) => f.productId)).toEqual(['p-3', 'p-2', 'p-1']);
    const otherShop = await api.get(`/v1/risk-findings?shopId=${b.shopId}`, merchant(a.merchantId));
    expect(otherShop.body.items).toEqual([]);
    expect((await api.get(`/v1/risk-findings?merchantId=${b.merchantId}`, merchant(a.merchantId))).status).toBe(404);
  });

  test('an unknown filter or kind is a 400', async () => {
    expect((await api.get('/v1/risk-findings?kind=stolen', staff.ops)).status).toBe(400);
    expect((await api.get('/v1/risk-findings?colour=red', staff.ops)).status).toBe(400);
  });

  test('words are stored folded and deduplicated on the folded form', async () => {
    const res = await api.post('/v1/banned-words', staff.ops, { words: ['ＢＥＳＴ', 'best', 'Best', '史上\u200B最强'], source: 'folding' });
    expect(res.status).toBe(201);
    expect(res.body.added).toEqual(['best']);
    const again = await api.post('/v1/banned-words', staff.ops, { words: ['BEST'], source: 'folding' });
    expect(again.body.added).toEqual([]);
  });

  test('a word that is only invisible characters is refused with 400', async () => {
    expectProblem(await api.post('/v1/banned-words', staff.ops, { words: ['\u200B\uFEFF'], source: 's' }), 400, 'invalid_request', { issues: expect.any(Array) });
  });

  test('the list is capped: words beyond the cap are refused with 422 and no new version', async () => {
    const current = await api.get('/v1/banned-words', staff.ops);
    const fill = Array.from({ length: 5_000 - current.body.words.length }, (_, i) => `filler-${i}`);
    await stack.db('banned_word_versions').insert({ version: current.body.version + 1, words_added: JSON.stringify(fill), added_by: 'test', source: 'fill' });
    const res = await api.post('/v1/banned-words', staff.ops, { words: ['one-too-many'], source: 's' });
    expectProblem(res, 422, 'banned_word_list_full', { size: current.body.words.length + fill.length, limit: 5_000 });
    expect(await stack.db('banned_word_versions').max('version as v').first()).toEqual({ v: current.body.version + 1 });
  });
});
