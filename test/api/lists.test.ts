import request from 'supertest';
import pino from 'pino';
import type { Express } from 'express';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type AppConfig } from '../../config/config';
import { createApp } from '../../api/app';
import { encodeCursor, LIST_LIMIT_DEFAULT } from '../../api/pagination';
import { piiVaultFrom } from '../../security/pii';
import { signToken, type TokenClaims } from '../../security/tokens';
import { writeTestCalendarFile } from '../support/calendar';
import { createTestDb, type TestDb } from '../support/db';
import { CASES, queueOrder, seedLists, SHOP_STATES, STATEMENTS, statementOrder, VIOLATIONS, violationOrder } from '../support/lists';
import { merchant, staff } from './http';

/**
 * The lists through HTTP: paging with the cursor the API hands out, filters, roles and a
 * merchant's own scope. They read the database only, so the app runs here without Temporal
 * (a client that never connects) over the seeded read model.
 */
describe('lists: GET /v1/verifications, /violations, /shops, /settlements, /statements', () => {
  let t: TestDb;
  let app: Express;
  let config: AppConfig;
  let connection: Connection;
  beforeAll(async () => {
    t = await createTestDb();
    await seedLists(t.db);
    config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PLATFORM_BASE_URL: 'http://127.0.0.1:1',
      PLATFORM_API_TOKEN: 'unused',
      CALENDAR_EXTRA_PATH: writeTestCalendarFile(),
      API_ADDRESS_RATE_LIMIT_PER_MINUTE: '100000',
    });
    connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    app = createApp({ config, db: t.db, temporal: new Client({ connection }), logger: pino({ level: 'silent' }), vault: piiVaultFrom(config) });
  });
  afterAll(async () => {
    await connection?.close();
    await t?.destroy();
  });

  const get = async (path: string, claims: TokenClaims) =>
    request(app).get(path).set('Authorization', `Bearer ${await signToken({ secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }, claims)}`);

  /** Follows nextCursor from the first page to the last; every page but the last is full. */
  async function pageAll(path: string, claims: TokenClaims, limit: number): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, claims);
      expect({ path, status: res.status, body: res.status === 200 ? 'ok' : res.body }).toEqual({ path, status: 200, body: 'ok' });
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (cursor === null) return items;
      expect(res.body.items).toHaveLength(limit);
    }
    throw new Error('paging did not end');
  }

  describe('paging through every item with a small limit: each once, in the list order', () => {
    test.each([1, 2, 3])('the review queue, %i at a time: the earliest deadline first', async (limit) => {
      expect((await pageAll('/v1/verifications', staff.reviewer, limit)).map((c) => c.caseId)).toEqual(queueOrder(CASES));
    });
    test.each([1, 3])('violations, %i at a time: the newest first', async (limit) => {
      expect((await pageAll('/v1/violations', staff.ops, limit)).map((c) => c.caseId)).toEqual(violationOrder(VIOLATIONS));
    });
    test('shops, 2 at a time, with their deposit states', async () => {
      const shops = await pageAll('/v1/shops', staff.finance, 2);
      expect(Object.fromEntries(shops.map((s) => [s.shopId, s.depositState]))).toEqual(SHOP_STATES);
    });
    test('statements, 4 at a time: the latest period first, then by merchant', async () => {
      expect((await pageAll('/v1/statements', staff.finance, 4)).map((s) => `${s.merchantId}/${s.period}`)).toEqual(statementOrder(STATEMENTS));
    });
    test('settlement runs, 1 at a time: the latest period first', async () => {
      const runs = await pageAll('/v1/settlements', staff.finance, 1);
      expect(runs.map((r) => [r.period, r.status, r.failureCount])).toEqual([
        ['2026-02', 'running', 0],
        ['2026-01', 'completed', 1],
        ['2025-12', 'completed', 0],
      ]);
    });
    test(`without a limit a page holds ${LIST_LIMIT_DEFAULT}, and the last page says so with nextCursor null`, async () => {
      const res = await get('/v1/verifications', staff.reviewer);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(CASES.length);
      expect(res.body.nextCursor).toBeNull();
    });
  });

  describe('filters', () => {
    test('the review queue: status, overdue, entity type, a submitted range in Shanghai days', async () => {
      const ids = async (query: string) => (await pageAll(`/v1/verifications?${query}`, staff.reviewer, 2)).map((c) => c.caseId);
      expect(await ids('status=in_review&overdue=false')).toEqual(queueOrder(CASES.filter((c) => c.status === 'in_review' && !c.overdue)));
      expect(await ids('overdue=true')).toEqual(['vc_d000000010', 'vc_d000000004']);
      expect(await ids('entityType=enterprise')).toEqual(queueOrder(CASES.filter((c) => c.entityType === 'enterprise')));
      // 2026-03-06 in Shanghai is 2026-03-05T16:00Z to 2026-03-06T16:00Z: both cases of the 6th, to its end.
      expect(await ids('submittedFrom=2026-03-06&submittedTo=2026-03-06')).toEqual(['vc_b000000008', 'vc_c000000009']);
      expect(await ids('submittedFrom=2026-03-01T05:00:00Z&submittedTo=2026-03-01T06:00:00%2B00:00')).toEqual(['vc_e000000005']);
    });

    test('a list item carries no personal data: no legal name, no submission', async () => {
      const res = await get('/v1/verifications?limit=1', staff.reviewer);
      expect(Object.keys(res.body.items[0]).sort()).toEqual(
        ['caseId', 'closedAt', 'deadline', 'deadlineProvisional', 'entityType', 'kind', 'merchantId', 'overdue', 'resubmitBy', 'status', 'submittedAt'].sort(),
      );
      expect(JSON.stringify(res.body)).not.toContain('Legal name');
    });

    test('violations: appeal pending, status as shown, level, type, shop', async () => {
      const ids = async (query: string) => (await pageAll(`/v1/violations?${query}`, staff.ops, 2)).map((c) => c.caseId);
      expect(await ids('appealPending=true')).toEqual(['vio_000000000000000000000003', 'vio_000000000000000000000002']);
      expect(await ids('status=needs_attention')).toEqual(['vio_000000000000000000000003']);
      expect(await ids('level=serious&type=price_violation')).toEqual(['vio_000000000000000000000002']);
      expect(await ids('shopId=shop-a')).toEqual(['vio_000000000000000000000001', 'vio_000000000000000000000004']);
      const [waiting] = await pageAll('/v1/violations?status=needs_attention', staff.ops, 1);
      expect(waiting).toMatchObject({ status: 'needs_attention', appealFiledAt: '2026-03-03T05:00:00.000Z', appealDecision: null });
    });

    test('shops: depositState, with the shortfall, the episode and its last ladder step', async () => {
      const res = await get('/v1/shops?depositState=shortfall', staff.ops);
      expect(res.body).toEqual({
        items: [
          {
            shopId: 'shop-b',
            merchantId: 'm-b',
            shopType: 'individual',
            shopStatus: 'open',
            depositState: 'shortfall',
            requiredFen: 50_000,
            balanceFen: 0,
            promotionBalanceFen: 0,
            owedFen: 10_000,
            shortfallFen: 60_000,
            shortfall: { episodeId: 'ep-b', since: '2026-03-01T00:00:00.000Z', ladderStep: 'close_cart', ladderStepAt: '2026-03-04T00:00:00.000Z' },
            restrictions: ['cart'],
          },
        ],
        nextCursor: null,
      });
      expect((await pageAll('/v1/shops?depositState=closing', staff.ops, 5)).map((s) => s.shopId)).toEqual(['shop-c']);
    });

    test('statements: period and status', async () => {
      const keys = async (query: string) => (await pageAll(`/v1/statements?${query}`, staff.finance, 2)).map((s) => `${s.merchantId}/${s.period}`);
      expect(await keys('period=2026-02&status=carried')).toEqual(['m-b/2026-02']);
      expect(await keys('period=2025-12')).toEqual(['m-a/2025-12']);
    });
  });

  describe('cursors', () => {
    async function firstCursor(path: string, claims: TokenClaims = staff.ops): Promise<string> {
      const res = await get(path, claims);
      expect(res.body.nextCursor).toEqual(expect.any(String));
      return res.body.nextCursor as string;
    }

    test.each([
      ['other filters', '/v1/violations?limit=1', '/v1/violations?limit=1&level=general'],
      ['a filter dropped', '/v1/violations?limit=1&type=price_violation', '/v1/violations?limit=1'],
      ['another list', '/v1/verifications?limit=1', '/v1/violations?limit=1'],
    ])('a cursor sent with %s is a 400 naming the cursor', async (_name, madeAt, sentTo) => {
      const cursor = await firstCursor(madeAt);
      const res = await get(`${sentTo}&cursor=${cursor}`, staff.ops);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', issues: [{ path: 'cursor', message: expect.stringContaining('other filters') }] });
    });

    test('the limit may change between pages; the filters may not', async () => {
      const cursor = await firstCursor('/v1/verifications?limit=1&status=in_review', staff.reviewer);
      const res = await get(`/v1/verifications?limit=50&status=in_review&cursor=${cursor}`, staff.reviewer);
      expect(res.status).toBe(200);
      expect(res.body.items.map((c: { caseId: string }) => c.caseId)).toEqual(queueOrder(CASES.filter((c) => c.status === 'in_review')).slice(1));
    });

    test("a merchant's cursor is no staff cursor: the merchant scope is one of its filters", async () => {
      const cursor = await firstCursor('/v1/statements?limit=1', merchant('m-a'));
      expect((await get(`/v1/statements?limit=1&cursor=${cursor}`, staff.finance)).status).toBe(400);
      expect((await get(`/v1/statements?limit=1&cursor=${cursor}`, merchant('m-a'))).status).toBe(200);
    });

    const scope = { list: 'verifications', filters: { merchantId: undefined } };
    test.each([
      ['not base64 JSON', 'bm90IGpzb24'],
      ['not a cursor at all', 'a$b'],
      ['a key of the wrong type', encodeCursor(scope, ['yesterday', 'vc_a000000001'])],
      ['too few keys', encodeCursor(scope, ['2026-03-05T15:59:59.999000Z'])],
      ['a timestamp of the right shape that is no instant', encodeCursor(scope, ['2026-13-45T99:59:59.999000Z', 'vc_a000000001'])],
      ['a text key the database could not take', encodeCursor(scope, ['2026-03-05T15:59:59.999000Z', 'vc\u0000'])],
      ['too long', 'A'.repeat(2000)],
    ])('a cursor that is %s is a 400, never a 500', async (_name, cursor) => {
      const res = await get(`/v1/verifications?cursor=${encodeURIComponent(cursor)}`, staff.reviewer);
      expect(res.status).toBe(400);
    });
  });

  describe('bad parameters are a 400 naming them', () => {
    test.each([
      ['/v1/verifications?limit=0', 'limit'],
      ['/v1/verifications?limit=201', 'limit'],
      ['/v1/verifications?limit=ten', 'limit'],
      ['/v1/verifications?limit=1&limit=2', 'limit'],
      ['/v1/verifications?status=open', 'status'],
      ['/v1/verifications?overdue=yes', 'overdue'],
      ['/v1/verifications?submittedFrom=2026-02-30', 'submittedFrom'],
      ['/v1/verifications?submittedFrom=2026-03-02&submittedTo=2026-03-01', 'submittedTo'],
      ['/v1/verifications?sort=deadline', '(root)'],
      ['/v1/violations?appealPending=1', 'appealPending'],
      ['/v1/violations?shopId=a%20b', 'shopId'],
      ['/v1/shops?depositState=short', 'depositState'],
      ['/v1/statements?period=2026-13', 'period'],
      ['/v1/settlements?status=done', 'status'],
    ])('%s', async (path, field) => {
      const res = await get(path, staff.admin);
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(field);
    });
  });

  describe('a merchant sees only its own', () => {
    test.each([
      ['/v1/verifications', 'merchantId'],
      ['/v1/violations', 'merchantId'],
      ['/v1/shops', 'merchantId'],
      ['/v1/statements', 'merchantId'],
    ])('%s lists only its own merchant', async (path, field) => {
      const items = await pageAll(path, merchant('m-a'), 1);
      expect(items.length).toBeGreaterThan(0);
      expect(new Set(items.map((i) => i[field]))).toEqual(new Set(['m-a']));
    });

    test.each(['/v1/verifications', '/v1/violations', '/v1/shops', '/v1/statements'])(
      "%s?merchantId= another merchant is answered as an unknown one: 404, as GET /v1/merchants/{id}/… answers",
      async (path) => {
        const other = await get(`${path}?merchantId=m-b`, merchant('m-a'));
        const unknown = await get(`${path}?merchantId=m-nobody`, merchant('m-a'));
        expect(other.status).toBe(404);
        expect([other.body.code, other.body.detail.replace('m-b', '<id>')]).toEqual([unknown.body.code, unknown.body.detail.replace('m-nobody', '<id>')]);
        expect((await get(`${path}?merchantId=m-a`, merchant('m-a'))).status).toBe(200);
      },
    );

    test("another merchant's shop as a filter lists nothing, as an unknown shop does", async () => {
      const other = await get('/v1/violations?shopId=shop-b', merchant('m-a'));
      const unknown = await get('/v1/violations?shopId=shop-nobody', merchant('m-a'));
      expect([other.status, other.body]).toEqual([200, { items: [], nextCursor: null }]);
      expect([unknown.status, unknown.body]).toEqual([200, { items: [], nextCursor: null }]);
    });
  });

  describe('roles: as the record views allow', () => {
    test.each([
      ['/v1/verifications', staff.finance],
      ['/v1/shops', staff.reviewer],
      ['/v1/settlements', staff.reviewer],
      ['/v1/settlements', merchant('m-a')],
      ['/v1/statements', staff.reviewer],
    ])('%s refuses %j with 403', async (path, claims) => {
      expect((await get(path, claims)).status).toBe(403);
    });

    test.each([
      ['/v1/verifications', [staff.ops, staff.reviewer, staff.admin]],
      ['/v1/violations', [staff.ops, staff.reviewer, staff.finance, staff.admin]],
      ['/v1/shops', [staff.ops, staff.finance, staff.admin]],
      ['/v1/settlements', [staff.ops, staff.finance, staff.admin]],
      ['/v1/statements', [staff.ops, staff.finance, staff.admin]],
    ])('%s answers every staff role that reads its records', async (path, roles) => {
      for (const claims of roles) expect({ role: claims.role, status: (await get(path, claims)).status }).toEqual({ role: claims.role, status: 200 });
    });

    test('no token, no list', async () => {
      expect((await request(app).get('/v1/shops')).status).toBe(401);
    });
  });

  test('each list is in the OpenAPI document with its query parameters and its page', async () => {
    const doc = (await request(app).get('/openapi.json')).body;
    const params = (path: string) => (doc.paths[path].get.parameters as Array<{ name: string; in: string }>).filter((p) => p.in === 'query').map((p) => p.name).sort();
    expect(params('/v1/verifications')).toEqual(['cursor', 'entityType', 'kind', 'limit', 'merchantId', 'overdue', 'status', 'submittedFrom', 'submittedTo']);
    expect(params('/v1/violations')).toEqual(['appealPending', 'cursor', 'level', 'limit', 'merchantId', 'shopId', 'status', 'type']);
    expect(params('/v1/shops')).toEqual(['cursor', 'depositState', 'limit', 'merchantId']);
    expect(params('/v1/settlements')).toEqual(['cursor', 'limit', 'status']);
    expect(params('/v1/statements')).toEqual(['cursor', 'kind', 'limit', 'merchantId', 'period', 'status']);
    const page = doc.paths['/v1/shops'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(page.properties).sort()).toEqual(['items', 'nextCursor']);
  });
});
