import request from 'supertest';
import { Client } from '@temporalio/client';
import type { TokenClaims } from '../../security/tokens';
import { enforcementWorkflowId } from '../../workflows/enforcement-action.defs';
import { seedEnforcedShop } from '../support/enforcement';
import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { merchant, staff } from './http';

const UNKNOWN_ACTION = `enf_${'0'.repeat(24)}`;
const evidence = 'brand owner statement ref BO-2026-114: the authorisation letter is forged';
const openBody = (shopId: string, more: Record<string, unknown> = {}) => ({ shopId, reason: 'forged_brand_authorisation', evidence, ...more });

/**
 * The enforcement routes attacked over HTTP (docs/rules.md §5.5): who may open and decide,
 * maker ≠ checker however the maker's name is spelt, one live action per shop, ids that name
 * nothing, text that cannot be stored, and the evidence kept out of the process's history.
 */
describe('enforcement routes: refusals over HTTP', () => {
  let stack: Stack;
  let client: Client;
  let seq = 0;
  const post = async (path: string, who: TokenClaims, body: unknown = {}, key?: string) => {
    const req = request(stack.app).post(path).set('Authorization', `Bearer ${await stack.token(who)}`);
    return (key ? req.set('Idempotency-Key', key) : req).send(body as object);
  };
  const get = async (path: string, who: TokenClaims) => request(stack.app).get(path).set('Authorization', `Bearer ${await stack.token(who)}`);
  /** A fresh shop with a few orders, so no test sees another's action. */
  const newShop = async (orders = 3) => {
    seq += 1;
    const shop = { shopId: `shop-enfx-${seq}`, merchantId: `m-enfx-${seq}` };
    await seedEnforcedShop(stack.db, shop, orders);
    return shop;
  };
  const open = async (shopId: string, who: TokenClaims = staff.ops) => {
    const res = await post('/v1/enforcement-actions', who, openBody(shopId));
    if (res.status !== 201) throw new Error(`open failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.actionId as string;
  };

  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('only ops and admin open, read or decide: merchant (even the shop\'s own), reviewer and finance are 403', async () => {
    const shop = await newShop();
    const actionId = await open(shop.shopId);
    for (const who of [merchant(shop.merchantId), staff.reviewer, staff.finance]) {
      expect((await post('/v1/enforcement-actions', who, openBody(shop.shopId))).status).toBe(403);
      expect((await get(`/v1/enforcement-actions/${actionId}`, who)).status).toBe(403);
      expect((await get(`/v1/enforcement-actions/${actionId}/refunds`, who)).status).toBe(403);
      for (const step of ['approve', 'reject', 'pause', 'resume']) expect((await post(`/v1/enforcement-actions/${actionId}/${step}`, who)).status).toBe(403);
    }
    expect(await stack.db('enforcement_actions').where({ shop_id: shop.shopId }).pluck('state')).toEqual(['awaiting_approval']);
  });

  test.each([
    ['upper case', 'Olga'],
    ['blanks around', ' olga '],
    ['full-width letters', 'ｏｌｇａ'],
  ])('maker ≠ checker: the maker spelt with %s may neither approve nor reject', async (_how, sub) => {
    const shop = await newShop();
    const actionId = await open(shop.shopId, staff.ops);
    for (const role of ['ops', 'admin'] as const) {
      for (const step of ['approve', 'reject']) {
        const res = await post(`/v1/enforcement-actions/${actionId}/${step}`, { sub, role });
        expect(res.status).toBe(403);
      }
    }
    expect(await stack.db('enforcement_actions').where({ id: actionId }).first('state', 'approved_by', 'rejected_by')).toEqual({ state: 'awaiting_approval', approved_by: null, rejected_by: null });
    expect(stack.sandbox.state.shops.get(shop.shopId)?.restrictions.has('restrict_withdrawals') ?? false).toBe(false);
  });

  test('an admin who opened an action cannot approve it under an ops token either', async () => {
    const shop = await newShop();
    const actionId = await open(shop.shopId, staff.admin);
    expect((await post(`/v1/enforcement-actions/${actionId}/approve`, { sub: 'ada', role: 'ops' })).status).toBe(403);
  });

  test('a shop that does not exist is a 404 and nothing is recorded; the refusal is audited', async () => {
    const res = await post('/v1/enforcement-actions', staff.ops, openBody('shop-nowhere'));
    expect(res.status).toBe(404);
    expect(await stack.db('enforcement_actions').where({ shop_id: 'shop-nowhere' })).toEqual([]);
    const audited = await eventually(
      () => stack.db('audit_log').where({ target: 'shop:shop-nowhere' }).whereNot({ outcome: 'attempted' }).select('action', 'outcome', 'status_code'),
      (rows) => rows.length >= 1,
      5_000,
    );
    expect(audited).toEqual([{ action: 'enforcement.open', outcome: 'refused', status_code: 404 }]);
  });

  test('a shop has one live action at a time: a second open while one awaits approval is a 409 naming it', async () => {
    const shop = await newShop();
    const first = await open(shop.shopId);
    const second = await post('/v1/enforcement-actions', staff.admin, openBody(shop.shopId, { reason: 'counterfeit_goods' }));
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ workflowId: enforcementWorkflowId(first) });
    expect(await stack.db('enforcement_actions').where({ shop_id: shop.shopId }).pluck('id')).toEqual([first]);
    // Once it is rejected the shop may be acted on again.
    expect((await post(`/v1/enforcement-actions/${first}/reject`, staff.admin, { note: 'wrong shop' })).status).toBe(200);
    expect((await post('/v1/enforcement-actions', staff.admin, openBody(shop.shopId))).status).toBe(201);
  });

  test('two opens of one shop at once: one action, the other a 409', async () => {
    const shop = await newShop();
    const answers = await Promise.all([post('/v1/enforcement-actions', staff.ops, openBody(shop.shopId)), post('/v1/enforcement-actions', staff.admin, openBody(shop.shopId))]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(await stack.db('enforcement_actions').where({ shop_id: shop.shopId })).toHaveLength(1);
  });

  test('an open retried under its Idempotency-Key answers the first answer again, not a second action', async () => {
    const shop = await newShop();
    const first = await post('/v1/enforcement-actions', staff.ops, openBody(shop.shopId), 'enf-open-retry-0001');
    expect(first.status).toBe(201);
    const again = await post('/v1/enforcement-actions', staff.ops, openBody(shop.shopId), 'enf-open-retry-0001');
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.actionId).toBe(first.body.actionId);
  });

  test('decisions and steps in the wrong state are 409 and change nothing; approving twice is a 409', async () => {
    const shop = await newShop();
    const actionId = await open(shop.shopId);
    expect((await post(`/v1/enforcement-actions/${actionId}/pause`, staff.admin)).status).toBe(409);
    expect((await post(`/v1/enforcement-actions/${actionId}/resume`, staff.admin)).status).toBe(409);
    expect((await post(`/v1/enforcement-actions/${actionId}/approve`, staff.admin)).status).toBe(200);
    const twice = await post(`/v1/enforcement-actions/${actionId}/approve`, { sub: 'pan', role: 'ops' });
    expect(twice.status).toBe(409);
    expect((await post(`/v1/enforcement-actions/${actionId}/reject`, { sub: 'pan', role: 'ops' })).status).toBe(409);
    await client.workflow.getHandle(enforcementWorkflowId(actionId)).result();
    expect((await post(`/v1/enforcement-actions/${actionId}/pause`, staff.admin)).status).toBe(409);
    expect((await post(`/v1/enforcement-actions/${actionId}/resume`, staff.admin)).status).toBe(409);
    const view = await get(`/v1/enforcement-actions/${actionId}`, staff.ops);
    expect(view.body).toMatchObject({ state: 'completed', approvedBy: 'ada', rejectedBy: null });
    const { done, failed, remaining } = view.body.progress as Record<string, number>;
    // Three orders, none refunded before, none known to the platform: every one answered for.
    expect({ done, failed, remaining }).toEqual({ done: 0, failed: 3, remaining: 0 });
  });

  test('ids that name nothing: 404 for a well-formed unknown id, 400 for a malformed one', async () => {
    expect((await get(`/v1/enforcement-actions/${UNKNOWN_ACTION}`, staff.ops)).status).toBe(404);
    expect((await get(`/v1/enforcement-actions/${UNKNOWN_ACTION}/refunds`, staff.ops)).status).toBe(404);
    for (const step of ['approve', 'reject', 'pause', 'resume']) expect((await post(`/v1/enforcement-actions/${UNKNOWN_ACTION}/${step}`, staff.admin)).status).toBe(404);
    expect((await get('/v1/enforcement-actions/enf_XYZ', staff.ops)).status).toBe(400);
  });

  test.each([
    ['a NUL byte in the evidence', { evidence: `${evidence}\u0000` }],
    ['a lone surrogate in the evidence', { evidence: `${evidence}\uD800` }],
    ['a control character in the evidence', { evidence: `${evidence}\u001B[2J` }],
    ['evidence over 20,000 characters', { evidence: 'x'.repeat(20_001) }],
    ['evidence of blanks only', { evidence: '            ' }],
    ['an unknown reason', { reason: 'because' }],
    ['an unknown field', { amountFen: 1 }],
  ])('open with %s is a 400 and records nothing', async (_what, more) => {
    const shop = await newShop(1);
    const res = await post('/v1/enforcement-actions', staff.ops, openBody(shop.shopId, more));
    expect(res.status).toBe(400);
    expect(await stack.db('enforcement_actions').where({ shop_id: shop.shopId })).toEqual([]);
  });

  test('a decision note that cannot be stored is a 400 and decides nothing', async () => {
    const shop = await newShop(1);
    const actionId = await open(shop.shopId);
    expect((await post(`/v1/enforcement-actions/${actionId}/approve`, staff.admin, { note: 'ok\u0000' })).status).toBe(400);
    expect((await post(`/v1/enforcement-actions/${actionId}/approve`, staff.admin, { note: 'x'.repeat(501) })).status).toBe(400);
    expect(await stack.db('enforcement_actions').where({ id: actionId }).first('state')).toEqual({ state: 'awaiting_approval' });
  });

  test('a refunds cursor made for one filter or action is refused for another', async () => {
    const shop = await newShop(5);
    const actionId = await open(shop.shopId);
    expect((await post(`/v1/enforcement-actions/${actionId}/approve`, staff.admin)).status).toBe(200);
    await client.workflow.getHandle(enforcementWorkflowId(actionId)).result();
    const page = await get(`/v1/enforcement-actions/${actionId}/refunds?limit=2`, staff.ops);
    const cursor = page.body.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    expect((await get(`/v1/enforcement-actions/${actionId}/refunds?limit=2&state=refunded&cursor=${cursor}`, staff.ops)).status).toBe(400);
    const other = await newShop(1);
    const otherId = await open(other.shopId);
    expect((await get(`/v1/enforcement-actions/${otherId}/refunds?cursor=${cursor}`, staff.ops)).status).toBe(400);
    expect((await get(`/v1/enforcement-actions/${actionId}/refunds?cursor=${cursor.slice(0, -2)}!!`, staff.ops)).status).toBe(400);
  });

  test('the evidence stays in the database: not in the process\'s history, its summary or the audit trail', async () => {
    const shop = await newShop(1);
    const marker = 'consumer Zhang San 13800138000 complained';
    const res = await post('/v1/enforcement-actions', staff.ops, openBody(shop.shopId, { evidence: `${evidence}; ${marker}` }));
    expect(res.status).toBe(201);
    const actionId = res.body.actionId as string;
    expect((await post(`/v1/enforcement-actions/${actionId}/reject`, staff.admin)).status).toBe(200);
    const handle = client.workflow.getHandle(enforcementWorkflowId(actionId));
    await handle.result();
    // Payloads are bytes: read them as text, or the search below could never find anything.
    const asText = (value: unknown) =>
      JSON.stringify(value, (k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v));
    const history = asText(await handle.fetchHistory());
    const described = asText(await handle.describe());
    expect(history).toContain(shop.shopId);
    expect(history).not.toContain('13800138000');
    expect(described).not.toContain('13800138000');
    const audit = JSON.stringify(await stack.db('audit_log').where('target', 'like', `%${actionId}%`).select('details'));
    expect(audit).not.toContain('13800138000');
    expect((await get(`/v1/enforcement-actions/${actionId}`, staff.ops)).body.evidence).toContain(marker);
  });
});
