import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { TypedSearchAttributes } from '@temporalio/common';
import type { Role } from '../../api/auth';
import type { TokenClaims } from '../../security/tokens';
import { BUSINESS_STATUS, MERCHANT_ID, PROCESS_TYPE } from '../../workflows/search-attributes';
import { eventually } from '../support/fixtures';
import { openShop, platformShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectAnsweredAsMissing, merchant, staff, type Api } from './http';

const UNKNOWN_CASE = `vio_${'0'.repeat(24)}`;
const STAFF: Array<Exclude<Role, 'merchant'>> = ['ops', 'reviewer', 'finance', 'admin'];

interface Issue {
  path: string;
  message: string;
}

interface ViolationRoute {
  name: string;
  method: 'GET' | 'POST';
  path: (caseId: string, merchantId: string) => string;
  allowed: Role[];
  /** A body the route accepts, so a refusal can only come from who is asking. */
  body?: (merchantId: string, shopId: string) => Record<string, unknown>;
}

const evidence = { summary: 'listing claims "100% silk"; the label says polyester', productIds: [] as string[] };
// Every open names its business reference; a fresh one each call unless the test fixes it.
const newReference = () => `ticket-${randomBytes(6).toString('hex')}`;
const openBody = (merchantId: string, shopId: string, more: Record<string, unknown> = {}) => ({
  reference: newReference(),
  merchantId,
  shopId,
  type: 'other',
  level: 'general',
  evidence,
  ...more,
});

/** The five violation routes and who may call each (a merchant only on its own cases). */
const ROUTES: ViolationRoute[] = [
  { name: 'POST /violations', method: 'POST', path: () => '/v1/violations', allowed: ['ops', 'admin'], body: (m, s) => openBody(m, s) },
  { name: 'GET /violations/:caseId', method: 'GET', path: (c) => `/v1/violations/${c}`, allowed: ['merchant', 'ops', 'reviewer', 'finance', 'admin'] },
  { name: 'POST …/appeal', method: 'POST', path: (c) => `/v1/violations/${c}/appeal`, allowed: ['merchant', 'admin'], body: () => ({ statement: 'the label was wrong, not the fabric' }) },
  {
    name: 'POST …/appeal-decision',
    method: 'POST',
    path: (c) => `/v1/violations/${c}/appeal-decision`,
    allowed: ['reviewer', 'admin'],
    body: () => ({ decision: 'rejected', reasons: ['the lab report confirms polyester'] }),
  },
  { name: 'GET /merchants/:merchantId/violations', method: 'GET', path: (_c, m) => `/v1/merchants/${m}/violations`, allowed: ['merchant', 'ops', 'reviewer', 'finance', 'admin'] },
];

describe('violation routes: penalties and appeals over HTTP', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    // The limit has its own suite (rate-limit.test.ts); here one token sends many requests.
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const claimsFor = (role: Role, ownerId: string): TokenClaims => (role === 'merchant' ? merchant(ownerId) : staff[role]);
  const call = (route: ViolationRoute, caseId: string, merchantId: string, shopId: string, who: TokenClaims) =>
    route.method === 'GET' ? api.get(route.path(caseId, merchantId), who) : api.post(route.path(caseId, merchantId), who, route.body?.(merchantId, shopId) ?? {});
  const open = (who: TokenClaims, body: unknown) => api.post('/v1/violations', who, body);
  const view = (caseId: string, who: TokenClaims = staff.ops) => api.get(`/v1/violations/${caseId}`, who);
  const appeal = (caseId: string, who: TokenClaims, body: unknown = { statement: 'the label was wrong, not the fabric' }) =>
    api.post(`/v1/violations/${caseId}/appeal`, who, body);
  const decide = (caseId: string, who: TokenClaims, body: unknown) => api.post(`/v1/violations/${caseId}/appeal-decision`, who, body);
  const listOf = (merchantId: string, who: TokenClaims = staff.ops) => api.get(`/v1/merchants/${merchantId}/violations`, who);
  const casesOf = (merchantId: string) => stack.db('violation_cases').where({ merchant_id: merchantId });

  /** Opens a case through HTTP and waits until its process has decided it (GET shows it appealable). */
  async function openCase(merchantId: string, shopId: string, who: TokenClaims = staff.ops, more: Record<string, unknown> = {}): Promise<string> {
    const res = await open(who, openBody(merchantId, shopId, more));
    if (res.status !== 201) throw new Error(`open failed: ${res.status} ${JSON.stringify(res.body)}`);
    const caseId = res.body.caseId as string;
    await eventually(() => view(caseId, staff.admin), (r) => r.status === 200 && r.body.status === 'appealable');
    return caseId;
  }

  describe('opening a case', () => {
    const owner = 'm-vio-open';
    let shopId: string;
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, owner));
    });

    test('201 with the case id; its process (id and task queue of the case) decides it, and GET shows it appealable with penalty, deadlines and history', async () => {
      const res = await open(staff.ops, openBody(owner, shopId));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        caseId: expect.stringMatching(/^vio_[0-9a-f]{24}$/),
        workflowId: `violation:${res.body.caseId}`,
        status: 'opening',
        reference: expect.stringMatching(/^ticket-/),
        replayed: false,
      });
      expect(res.headers.location).toBe(`/v1/violations/${res.body.caseId}`);
      const caseId = res.body.caseId as string;

      const described = await stack.env.client.workflow.getHandle(`violation:${caseId}`).describe();
      expect(described.type).toBe('violationCase');
      expect(described.taskQueue).toBe(stack.config.TEMPORAL_TASK_QUEUE);
      const attributes = described.typedSearchAttributes as TypedSearchAttributes;
      expect(attributes.get(MERCHANT_ID)).toBe(owner);
      expect(attributes.get(PROCESS_TYPE)).toBe('violation');
      expect(attributes.get(BUSINESS_STATUS)).toEqual(expect.any(String));

      const decided = await eventually(
        () => view(caseId),
        (r) => r.status === 200 && r.body.status === 'appealable' && r.body.history.some((e: { type: string }) => e.type === 'penalty_applied'),
      );
      expect(decided.body).toEqual({
        caseId,
        merchantId: owner,
        shopId,
        type: 'other',
        reportedLevel: 'general',
        level: 'general',
        escalatedBecause: null,
        status: 'appealable',
        points: 2,
        penalty: expect.objectContaining({ points: 2, delistProducts: true, fineFen: 0, suspendSalesUntil: null, startClosure: false }),
        fineDeductedFen: 0,
        appealDeadline: expect.any(String),
        effectEndsAt: expect.any(String),
        appeal: null,
        openedBy: 'olga',
        openedAt: expect.any(String),
        closedAt: null,
        evidence,
        attention: null,
        history: [
          { type: 'opened', actor: 'system', at: expect.any(String), details: expect.objectContaining({ level: 'general' }) },
          { type: 'penalty_applied', actor: 'system', at: expect.any(String), details: expect.any(Object) },
        ],
      });
      // Deadlines are instants: after the opening, the appeal window before the effect period's end.
      const openedAt = Date.parse(decided.body.openedAt);
      expect(Date.parse(decided.body.appealDeadline)).toBeGreaterThan(openedAt);
      expect(Date.parse(decided.body.effectEndsAt)).toBeGreaterThan(Date.parse(decided.body.appealDeadline));
      expect(new Date(decided.body.openedAt).toISOString()).toBe(decided.body.openedAt);

      const audit = await api.auditRowOf(res.headers['x-request-id']!);
      expect(audit).toMatchObject({ actor_sub: 'olga', actor_role: 'ops', action: 'violation.open', target: `violation:${caseId}`, status_code: 201, outcome: 'succeeded' });
    });

    test('an unknown shop is a 404, a shop of another merchant a 409; neither records a case or starts a process', async () => {
      const unknown = await open(staff.admin, openBody(owner, 'shop-nobody'));
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ code: 'not_found', detail: 'shop shop-nobody does not exist' });

      const stranger = 'm-vio-stranger';
      const mismatch = await open(staff.ops, openBody(stranger, shopId));
      expect(mismatch.status).toBe(409);
      expect(mismatch.body).toMatchObject({ code: 'conflict', detail: `shop ${shopId} does not belong to merchant ${stranger}` });
      expect(await casesOf(stranger)).toHaveLength(0);
      expect(await stack.db('violation_cases').where({ shop_id: 'shop-nobody' })).toHaveLength(0);
    });

    test('a second general case while the first is in effect stands one level higher and still carries its 2 points; the list shows both, newest first', async () => {
      const owner2 = 'm-vio-repeat';
      const { shopId: shop2 } = await openShop(stack, owner2);
      const first = await openCase(owner2, shop2);
      const res = await open(staff.admin, openBody(owner2, shop2, { type: 'price_violation' }));
      expect(res.status).toBe(201);
      const second = res.body.caseId as string;
      const decided = await eventually(() => view(second), (r) => r.body.status === 'appealable');
      expect(decided.body).toMatchObject({
        reportedLevel: 'general',
        level: 'serious',
        escalatedBecause: 'repeat_in_effect',
        points: 2,
        penalty: expect.objectContaining({ points: 2, fineFen: 200_000, suspendSalesUntil: expect.any(String), restrictionsForEffect: ['bar_big_promotions'] }),
        openedBy: 'ada',
      });
      await eventually(async () => platformShop(stack, shop2).restrictions, (held) => held.has('stop_sales'));

      const list = await listOf(owner2, merchant(owner2));
      expect(list.status).toBe(200);
      expect(list.body.merchantId).toBe(owner2);
      expect(list.body.violations.map((v: { caseId: string }) => v.caseId)).toEqual([second, first]);
      expect(list.body.violations[0]).toMatchObject({ level: 'serious', type: 'price_violation', status: 'appealable' });
      expect(list.body.violations[1]).toMatchObject({ level: 'general', type: 'other' });
      for (const v of list.body.violations) expect(v).not.toHaveProperty('history');
      // Both cases' points count towards the shop's natural year.
      expect((await casesOf(owner2)).map((r: { points: number }) => r.points)).toEqual([2, 2]);
      expect((await listOf('m-vio-nobody')).body).toEqual({ merchantId: 'm-vio-nobody', violations: [] });
    });
  });

  describe('a business reference makes opening a case safe to retry', () => {
    const owner = 'm-vio-retry';
    let shopId: string;
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, owner));
    });
    // Case ids only: a case opened a moment ago may still be deciding.
    const caseIds = async () => (await casesOf(owner)).map((r: { id: string }) => r.id).sort();

    test('the same request again answers the same case (200, replayed) and opens no second one: no escalation, no fine', async () => {
      const body = openBody(owner, shopId, { reference: 'ticket-2026-0042' });
      const first = await open(staff.ops, body);
      expect(first.status).toBe(201);
      const caseId = first.body.caseId as string;
      await eventually(() => view(caseId), (r) => r.body.status === 'appealable');

      // A retry after a lost answer, by a colleague, with the keys in another order.
      const { evidence: cited, ...rest } = body;
      const again = await open(staff.admin, { evidence: { productIds: cited.productIds, summary: cited.summary }, ...rest });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ caseId, workflowId: `violation:${caseId}`, status: 'appealable', reference: 'ticket-2026-0042', replayed: true });
      expect(again.headers.location).toBe(`/v1/violations/${caseId}`);

      expect(await casesOf(owner)).toHaveLength(1);
      expect((await view(caseId)).body).toMatchObject({ level: 'general', escalatedBecause: null, fineDeductedFen: 0, openedBy: 'olga' });
      expect(platformShop(stack, shopId).restrictions.has('stop_sales')).toBe(false);
      const audit = await api.auditRowOf(again.headers['x-request-id']!);
      expect(audit).toMatchObject({ action: 'violation.open', target: `violation:${caseId}`, status_code: 200, outcome: 'succeeded' });
    });

    test('a different body under the same reference is a 409 naming the case; nothing is recorded', async () => {
      const first = await open(staff.ops, openBody(owner, shopId, { reference: 'ticket-2026-0043' }));
      expect(first.status).toBe(201);
      const before = await caseIds();
      const other = await open(staff.ops, openBody(owner, shopId, { reference: 'ticket-2026-0043', level: 'serious' }));
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({
        code: 'conflict',
        detail: `reference ticket-2026-0043 already opened case ${first.body.caseId} with a different request`,
        caseId: first.body.caseId,
      });
      expect(await caseIds()).toEqual(before);
    });

    test('the Idempotency-Key header is the reference when the body has none; neither is a 400, both differing a 400', async () => {
      const { reference: _unused, ...bare } = openBody(owner, shopId);
      const token = await stack.token(staff.ops);
      const send = (body: unknown, key?: string) => {
        const req = request(stack.app).post('/v1/violations').set('Authorization', `Bearer ${token}`);
        return (key ? req.set('Idempotency-Key', key) : req).send(body as object);
      };
      const first = await send(bare, 'retry-key-0001');
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ reference: 'retry-key-0001', replayed: false });
      // The same caller's key again: the first answer itself (api/idempotency.ts).
      const again = await send(bare, 'retry-key-0001');
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      // Another caller's key is another key, but the same reference: the case it opened.
      const otherCaller = await request(stack.app).post('/v1/violations').set('Authorization', `Bearer ${await stack.token(staff.admin)}`).set('Idempotency-Key', 'retry-key-0001').send(bare);
      expect(otherCaller.status).toBe(200);
      expect(otherCaller.body).toMatchObject({ caseId: first.body.caseId, replayed: true });
      // The same request naming the reference in its body is the same request.
      const inBody = await send({ ...bare, reference: 'retry-key-0001' });
      expect(inBody.status).toBe(200);
      expect(inBody.body.caseId).toBe(first.body.caseId);

      const before = await caseIds();
      const none = await send(bare);
      expect(none.status).toBe(400);
      expect(none.body.issues).toEqual([{ path: 'reference', message: 'name the request: a reference in the body or an Idempotency-Key header' }]);
      const both = await send({ ...bare, reference: 'ticket-a' }, 'ticket-b');
      expect(both.status).toBe(400);
      expect(both.body.issues).toEqual([{ path: 'reference', message: 'the body\'s reference and the Idempotency-Key header differ' }]);
      const badKey = await send(bare, 'a key with spaces');
      expect(badKey.status).toBe(400);
      expect(badKey.body.issues).toEqual([{ path: 'Idempotency-Key', message: expect.any(String) }]);
      expect(await caseIds()).toEqual(before);
    });

    test('identical requests sent at once open one case: one 201, the rest 200 with its id', async () => {
      const body = openBody(owner, shopId, { reference: 'ticket-2026-0044' });
      const answers = await Promise.all(Array.from({ length: 6 }, () => open(staff.ops, body)));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 200, 201]);
      const ids = new Set(answers.map((r) => r.body.caseId));
      expect(ids.size).toBe(1);
      expect(await stack.db('violation_cases').where({ reference: 'ticket-2026-0044' })).toHaveLength(1);
      const [caseId] = [...ids] as string[];
      await eventually(() => view(caseId!), (r) => r.body.status === 'appealable');
    });
  });

  describe('what a merchant sees of staff', () => {
    test('the case and the list show a merchant "staff" where staff ids stand (opener, reviewer, their history); staff see the ids', async () => {
      const owner = 'm-vio-names';
      const { shopId } = await openShop(stack, owner);
      const caseId = await openCase(owner, shopId);
      const filed = await appeal(caseId, merchant(owner));
      expect(filed.status).toBe(200);
      expect(filed.body).toMatchObject({ openedBy: 'staff', appeal: { filedBy: `u-${owner}` } });
      expect((await decide(caseId, staff.reviewer, { decision: 'rejected', reasons: ['the lab report confirms polyester'] })).status).toBe(200);

      const seen = await view(caseId, merchant(owner));
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({ openedBy: 'staff', appeal: { filedBy: `u-${owner}`, decidedBy: 'staff', reasons: ['the lab report confirms polyester'] } });
      expect(seen.body.history.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([
        ['opened', 'system'],
        ['penalty_applied', 'system'],
        ['appeal_filed', `u-${owner}`],
        ['appeal_rejected', 'staff'],
      ]);
      expect(JSON.stringify(seen.body)).not.toMatch(/"(olga|rui)"/);
      const listed = await listOf(owner, merchant(owner));
      expect(listed.body.violations[0]).toMatchObject({ openedBy: 'staff', appeal: { decidedBy: 'staff' } });
      expect(JSON.stringify(listed.body)).not.toMatch(/"(olga|rui)"/);

      const byStaff = await view(caseId, staff.finance);
      expect(byStaff.body).toMatchObject({ openedBy: 'olga', appeal: { decidedBy: 'rui' } });
      expect(byStaff.body.history[3]).toMatchObject({ type: 'appeal_rejected', actor: 'rui' });
    });
  });

  describe('who may call what', () => {
    const owner = 'm-vio-roles';
    let shopId: string;
    let caseId: string;
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, owner));
      caseId = await openCase(owner, shopId);
    });

    test.each(ROUTES.map((r) => [r.name, r] as const))('%s: a wrong role is a 403, another merchant\'s case a 404 like a missing one, no token a 401, and nothing changes', async (_name, route) => {
      const before = await casesOf(owner);
      for (const role of STAFF.filter((r) => !route.allowed.includes(r))) {
        const res = await call(route, caseId, owner, shopId, staff[role]);
        expect({ role, status: res.status, code: res.body.code }).toEqual({ role, status: 403, code: 'forbidden' });
      }
      if (!route.allowed.includes('merchant')) {
        const res = await call(route, caseId, owner, shopId, merchant(owner));
        expect({ status: res.status, message: res.body.detail }).toEqual({ status: 403, message: expect.stringContaining('role merchant') });
      } else {
        // Another merchant's case (or list) answers exactly like a missing one: ids cannot be enumerated.
        const intruder = await call(route, caseId, owner, shopId, merchant('m-vio-intruder'));
        const missing = await call(route, UNKNOWN_CASE, 'm-vio-nobody', shopId, merchant('m-vio-intruder'));
        const existing = route.path(caseId, owner).includes(caseId) ? caseId : owner;
        const unknown = existing === caseId ? UNKNOWN_CASE : 'm-vio-nobody';
        expect(intruder.body).toMatchObject({ code: 'not_found', instance: intruder.headers['x-request-id'] });
        expectAnsweredAsMissing(intruder, missing, { existing, unknown });
      }
      const path = route.path(caseId, owner);
      const anonymous = route.method === 'GET' ? await request(stack.app).get(path) : await request(stack.app).post(path).send(route.body?.(owner, shopId));
      expect(anonymous.status).toBe(401);
      const forged = await request(stack.app).get(path).set('Authorization', 'Bearer not-a-token');
      expect(forged.status).toBe(401);

      expect(await casesOf(owner)).toEqual(before);
      expect((await view(caseId)).body).toMatchObject({ status: 'appealable', appeal: null });
    });

    test('every allowed role reads the case and the list; a refused appeal attempt is audited under the case', async () => {
      for (const role of ROUTES[1]!.allowed) {
        const res = await view(caseId, claimsFor(role, owner));
        expect({ role, status: res.status, caseId: res.body.caseId }).toEqual({ role, status: 200, caseId });
      }
      for (const role of ROUTES[4]!.allowed) {
        const res = await listOf(owner, claimsFor(role, owner));
        expect({ role, status: res.status, count: res.body.violations?.length }).toEqual({ role, status: 200, count: 1 });
      }
      const refused = await appeal(caseId, staff.ops);
      expect(refused.status).toBe(403);
      const row = await api.auditRowOf(refused.headers['x-request-id']!);
      expect(row).toMatchObject({ actor_role: 'ops', target: `violation:${caseId}`, status_code: 403, outcome: 'refused' });
    });

    test('an unknown case is a 404 for every role allowed on it', async () => {
      for (const route of ROUTES.slice(1, 4)) {
        for (const role of route.allowed) {
          const res = await call(route, UNKNOWN_CASE, owner, shopId, claimsFor(role, owner));
          expect({ route: route.name, role, status: res.status, message: res.body.detail }).toEqual({
            route: route.name,
            role,
            status: 404,
            message: `violation case ${UNKNOWN_CASE} does not exist`,
          });
        }
      }
    });
  });

  describe('bad input is a 400 with field-level issues, and nothing is recorded', () => {
    const owner = 'm-vio-bad';
    let shopId: string;
    let caseId: string;
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, owner));
      caseId = await openCase(owner, shopId);
    });
    afterAll(async () => {
      expect(await casesOf(owner)).toHaveLength(1);
      expect((await view(caseId)).body).toMatchObject({ status: 'appealable', appeal: null });
    });

    const good = () => openBody(owner, shopId);
    const cases: Array<[string, string, () => unknown, Issue]> = [
      ['an unknown field', 'open', () => ({ ...good(), severity: 'high' }), { path: '(root)', message: expect.stringContaining('severity') }],
      ['an unknown type', 'open', () => ({ ...good(), type: 'counterfeit' }), { path: 'type', message: expect.any(String) }],
      ['an unknown level', 'open', () => ({ ...good(), level: 'minor' }), { path: 'level', message: expect.any(String) }],
      ['no evidence', 'open', () => ({ ...good(), evidence: undefined }), { path: 'evidence', message: expect.any(String) }],
      ['a blank summary', 'open', () => ({ ...good(), evidence: { summary: '   ', productIds: [] } }), { path: 'evidence.summary', message: expect.any(String) }],
      ['a summary of 2,001 characters', 'open', () => ({ ...good(), evidence: { summary: 'x'.repeat(2001), productIds: [] } }), { path: 'evidence.summary', message: expect.any(String) }],
      ['201 product ids', 'open', () => ({ ...good(), evidence: { summary: 's', productIds: Array.from({ length: 201 }, (_, i) => `p-${i}`) } }), { path: 'evidence.productIds', message: expect.any(String) }],
      ['a product id with a space', 'open', () => ({ ...good(), evidence: { summary: 's', productIds: ['p 1'] } }), { path: 'evidence.productIds.0', message: expect.any(String) }],
      ['an unknown evidence field', 'open', () => ({ ...good(), evidence: { ...evidence, buyerPhone: '13800000000' } }), { path: 'evidence', message: expect.stringContaining('buyerPhone') }],
      ['a bad merchant id', 'open', () => ({ ...good(), merchantId: 'm vio!' }), { path: 'merchantId', message: expect.any(String) }],
      ['a list instead of an object', 'open', () => [], { path: '(root)', message: expect.stringContaining('expected object') }],
      ['an appeal without a statement', 'appeal', () => ({}), { path: 'statement', message: expect.any(String) }],
      ['a blank statement', 'appeal', () => ({ statement: ' ' }), { path: 'statement', message: expect.any(String) }],
      ['a statement of 2,001 characters', 'appeal', () => ({ statement: 'x'.repeat(2001) }), { path: 'statement', message: expect.any(String) }],
      ['an unknown appeal field', 'appeal', () => ({ statement: 's', attachments: [] }), { path: '(root)', message: expect.stringContaining('attachments') }],
      ['an unknown decision', 'decide', () => ({ decision: 'approve', reasons: [] }), { path: 'decision', message: expect.any(String) }],
      ['a rejection without reasons', 'decide', () => ({ decision: 'rejected', reasons: [] }), { path: 'reasons', message: 'a rejection needs at least one reason' }],
      ['a rejection with a blank reason', 'decide', () => ({ decision: 'rejected', reasons: [' '] }), { path: 'reasons.0', message: expect.any(String) }],
    ];

    test.each(cases)('%s', async (_what, route, body, issue) => {
      const res =
        route === 'open' ? await open(staff.admin, body()) : route === 'appeal' ? await appeal(caseId, merchant(owner), body()) : await decide(caseId, staff.reviewer, body());
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', instance: res.headers['x-request-id'] });
      expect(res.body.issues).toEqual(expect.arrayContaining([issue]));
    });

    test.each([
      ['a verification case id', 'vc_0123456789abcdef'],
      ['upper-case hex', `vio_${'A'.repeat(24)}`],
      ['23 hex digits', `vio_${'a'.repeat(23)}`],
      ['a NUL byte', '%00'],
    ])('a case id that is %s is a 400 on every case route', async (_what, badId) => {
      for (const route of ROUTES.slice(1, 4)) {
        const res = await call(route, badId, owner, shopId, staff.admin);
        expect({ route: route.name, status: res.status, issues: res.body.issues }).toEqual({ route: route.name, status: 400, issues: [{ path: 'caseId', message: 'not a violation case id' }] });
      }
    });
  });

  describe('appeals', () => {
    test('the merchant appeals (200); a second appeal is a 409; the opener may not decide (403); another reviewer upholds it (200) and the case is reversed', async () => {
      const owner = 'm-vio-appeal';
      const { shopId } = await openShop(stack, owner);
      // Opened by an admin: the one staff role that could also decide the appeal.
      const caseId = await openCase(owner, shopId, staff.admin);

      const nothingToDecide = await decide(caseId, staff.reviewer, { decision: 'upheld' });
      expect(nothingToDecide.status).toBe(409);
      expect(nothingToDecide.body.detail).toBe(`case ${caseId} has no appeal waiting for a decision`);

      const filed = await appeal(caseId, merchant(owner), { statement: '  the label was wrong, not the fabric  ' });
      expect(filed.status).toBe(200);
      expect(filed.body).toMatchObject({
        caseId,
        status: 'appealed',
        level: 'general',
        appealDeadline: expect.any(String),
        appeal: { statement: 'the label was wrong, not the fabric', filedBy: `u-${owner}`, filedAt: expect.any(String), decision: null, decidedBy: null, decidedAt: null, reasons: [] },
      });
      expect(filed.body.history.map((e: { type: string }) => e.type)).toEqual(['opened', 'penalty_applied', 'appeal_filed']);
      expect(filed.body.history[2]).toMatchObject({ actor: `u-${owner}` });

      const again = await appeal(caseId, merchant(owner));
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining('already appealed'), instance: again.headers['x-request-id'] });
      expect((await view(caseId)).body.appeal.statement).toBe('the label was wrong, not the fabric');

      const byOpener = await decide(caseId, staff.admin, { decision: 'upheld' });
      expect(byOpener.status).toBe(403);
      expect(byOpener.body.detail).toBe('the reviewer who opened the case cannot decide its appeal');
      // The same person under a reviewer token is still the opener.
      const sameAsReviewer = await decide(caseId, { sub: 'ada', role: 'reviewer' }, { decision: 'upheld' });
      expect(sameAsReviewer.status).toBe(403);
      expect((await view(caseId)).body).toMatchObject({ status: 'appealed', appeal: { decision: null } });

      const upheld = await decide(caseId, staff.reviewer, { decision: 'upheld', reasons: ['the supplier certificate shows silk'] });
      expect(upheld.status).toBe(200);
      expect(upheld.body).toMatchObject({
        status: 'reversed',
        appeal: { decision: 'upheld', decidedBy: 'rui', decidedAt: expect.any(String), reasons: ['the supplier certificate shows silk'] },
      });

      const shown = await view(caseId, staff.ops);
      expect(shown.body).toMatchObject({ status: 'reversed', closedAt: expect.any(String), appeal: { decision: 'upheld', decidedBy: 'rui' } });
      expect(shown.body.history.map((e: { type: string }) => e.type)).toEqual(['opened', 'penalty_applied', 'appeal_filed', 'appeal_upheld']);
      expect(shown.body.history[3]).toMatchObject({ actor: 'rui', details: expect.objectContaining({ reasons: ['the supplier certificate shows silk'] }) });
      for (const e of shown.body.history) expect(new Date(e.at).toISOString()).toBe(e.at);

      const decidedTwice = await decide(caseId, { sub: 'rhea', role: 'reviewer' }, { decision: 'rejected', reasons: ['second look'] });
      expect(decidedTwice.status).toBe(409);
      expect(decidedTwice.body).toMatchObject({ code: 'conflict', detail: `violation case ${caseId} is reversed: its process has ended`, caseStatus: 'reversed' });
      const appealAfterwards = await appeal(caseId, staff.admin);
      expect(appealAfterwards.status).toBe(409);
    });

    test('an admin appeals on the merchant\'s behalf and a rejected appeal leaves the case in effect', async () => {
      const owner = 'm-vio-reject';
      const { shopId } = await openShop(stack, owner);
      const caseId = await openCase(owner, shopId);
      expect((await appeal(caseId, staff.admin, { statement: 'the merchant phoned in: wrong label' })).status).toBe(200);
      const rejected = await decide(caseId, staff.admin, { decision: 'rejected', reasons: ['the lab report confirms polyester'] });
      expect(rejected.status).toBe(200);
      expect(rejected.body).toMatchObject({ status: 'in_effect', appeal: { decision: 'rejected', decidedBy: 'ada', filedBy: 'ada' } });
      const shown = await view(caseId, staff.finance);
      expect(shown.body).toMatchObject({ status: 'in_effect', closedAt: null });
      expect(shown.body.history.map((e: { type: string }) => e.type)).toEqual(['opened', 'penalty_applied', 'appeal_filed', 'appeal_rejected']);
    });

    // It moves the test server's clock past the appeal window, so it runs after the others; and before
    // any shop closes: once a closure has completed, this time-skipping server stops skipping time.
    test('an appeal after the window is a 409 naming the deadline it missed', async () => {
      const owner = 'm-vio-late';
      const { shopId } = await openShop(stack, owner);
      const caseId = await openCase(owner, shopId);
      const deadline = (await view(caseId)).body.appealDeadline as string;
      await stack.env.sleep(Date.parse(deadline) - (await stack.env.currentTimeMs()) + 60_000);
      await eventually(() => view(caseId), (r) => r.body.status === 'in_effect');

      const late = await appeal(caseId, merchant(owner));
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ code: 'conflict', detail: `the appeal window closed at ${deadline}` });
      const shown = await view(caseId, merchant(owner));
      expect(shown.body).toMatchObject({ status: 'in_effect', appeal: null });
      expect(shown.body.history.map((e: { type: string }) => e.type)).toEqual(['opened', 'penalty_applied', 'appeal_window_closed']);
    });

    test('an especially serious case is permanent: no appeal window, an appeal is a 409, and so is cancelling its closure', async () => {
      const owner = 'm-vio-ban';
      const { shopId } = await openShop(stack, owner);
      // An open order keeps the ban's closure waiting, where a merchant's own closure could be cancelled.
      platformShop(stack, shopId).orders = [{ orderId: 'o-ban', status: 'open', receiptConfirmedAt: null }];
      const res = await open(staff.ops, openBody(owner, shopId, { level: 'especially_serious' }));
      expect(res.status).toBe(201);
      const caseId = res.body.caseId as string;
      const shown = await eventually(() => view(caseId), (r) => r.body.status === 'permanent');
      expect(shown.body).toMatchObject({ level: 'especially_serious', appealDeadline: null, effectEndsAt: null, penalty: expect.objectContaining({ startClosure: true }) });
      const refused = await appeal(caseId, merchant(owner));
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe('an especially serious violation cannot be appealed');
      expect((await view(caseId)).body.appeal).toBeNull();

      await eventually(() => api.get(`/v1/shops/${shopId}/closure`, staff.ops), (r) => r.body.status === 'waiting');
      for (const who of [merchant(owner), staff.ops, staff.admin]) {
        const cancel = await api.post(`/v1/shops/${shopId}/closure/cancel`, who, {});
        expect(cancel.status).toBe(409);
        expect(cancel.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining(`started by the penalty of violation case ${caseId}`) });
      }
      expect((await api.get(`/v1/shops/${shopId}/closure`, merchant(owner))).body).toMatchObject({ status: 'waiting', cancelledAt: null, details: { penaltyCaseId: caseId } });
    });
  });
});
