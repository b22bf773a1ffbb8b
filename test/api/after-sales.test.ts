import request from 'supertest';
import type { TokenClaims } from '../../security/tokens';
import { addOrder } from '../support/after-sales';
import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectAnsweredAsMissing, merchant, staff, type Api } from './http';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const agent = (sub: string): TokenClaims => ({ sub, role: 'ops' });

describe('after-sales tickets API', () => {
  let stack: Stack;
  let api: Api;
  let seq = 0;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const TICKETS = '/v1/after-sales/tickets';
  /** A fresh order of the merchant, received `receivedAgoMs` ago (or only paid). */
  const order = async (merchantId: string, o: { category?: string; receivedAgoMs?: number; status?: 'paid' | 'refunded' } = {}) => {
    const id = `o-as-${++seq}`;
    await addOrder(stack.db, { id, merchantId, category: o.category ?? 'apparel', status: o.status, receiptConfirmedAt: new Date(Date.now() - (o.receivedAgoMs ?? DAY)) });
    return id;
  };
  const auditOf = (target: string, count = 1) =>
    eventually(() => stack.db('audit_log').where({ target }).whereNot({ outcome: 'attempted' }).orderBy('id'), (rows) => rows.length >= count, 5_000).catch(() => []);

  test('admin registers agents by their token subject; ops read them; nobody else changes them', async () => {
    const registered = await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'amy', categories: ['apparel', 'beauty'] });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ agentId: 'amy', categories: ['apparel', 'beauty'], active: true, updatedBy: 'ada' });
    expect((await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'bob', categories: ['apparel'] })).status).toBe(201);
    expect((await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'bea', categories: ['beauty'] })).status).toBe(201);
    const changed = await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'bea', categories: ['beauty'], active: true });
    expect(changed.status).toBe(200);
    expect(await auditOf('agent:bea', 2)).toEqual([
      expect.objectContaining({ action: 'after_sales.agent.register', outcome: 'succeeded' }),
      expect.objectContaining({ action: 'after_sales.agent.change', outcome: 'succeeded' }),
    ]);
    expect((await api.post('/v1/after-sales/agents', staff.ops, { agentId: 'olga', categories: ['apparel'] })).status).toBe(403);
    expect((await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'x', categories: ['apparel', 'apparel'] })).status).toBe(400);
    expect((await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'x', categories: [] })).status).toBe(400);
    const listed = await api.get('/v1/after-sales/agents?limit=2', staff.ops);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((a: { agentId: string }) => a.agentId)).toEqual(['amy', 'bea']);
    const rest = await api.get(`/v1/after-sales/agents?limit=2&cursor=${listed.body.nextCursor}`, staff.ops);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ agentId: 'bob' })], nextCursor: null });
    expect((await api.get('/v1/after-sales/agents', merchant('m-as'))).status).toBe(403);
  });

  test('ops open tickets for the consumer: round-robin by category, due in 48 hours, audited; the seven days and one open ticket per order and kind are kept', async () => {
    const first = await api.post(TICKETS, staff.ops, { kind: 'no_reason_return', orderId: await order('m-as'), description: 'does not fit' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ kind: 'no_reason_return', merchantId: 'm-as', shopId: 'shop-m-as', category: 'apparel', state: 'open', assignee: 'amy', createdBy: 'olga', escalationLevel: 0, overdue: false, withinTarget: null });
    expect(Date.parse(first.body.dueAt) - Date.parse(first.body.createdAt)).toBe(2 * DAY);
    expect(first.headers.location).toBe(`${TICKETS}/${first.body.ticketId}`);
    const audit = await auditOf(`ticket:${first.body.ticketId}`);
    expect(audit).toEqual([expect.objectContaining({ action: 'after_sales.ticket.open', actor_sub: 'olga', outcome: 'succeeded', status_code: 201 })]);
    // The consumer's words are on the ticket, not in the audit trail.
    expect(JSON.stringify(audit)).not.toContain('does not fit');

    const second = await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: await order('m-as'), description: 'late' });
    expect(second.body.assignee).toBe('bob');
    // Beauty's round is its own; bob does not handle beauty.
    const beauty = await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: await order('m-as', { category: 'beauty' }), description: 'rash' });
    expect(beauty.body.assignee).toBe('amy');
    expect((await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: await order('m-as', { category: 'toys' }), description: 'x' })).body.assignee).toBeNull();

    const again = await api.post(TICKETS, staff.ops, { kind: 'no_reason_return', orderId: first.body.orderId, description: 'still' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ reason: 'ticket_open', ticketId: first.body.ticketId });

    const lateReturn = await api.post(TICKETS, staff.ops, { kind: 'no_reason_return', orderId: await order('m-as', { receivedAgoMs: 7 * DAY + 60_000 }), description: 'x' });
    expect(lateReturn.status).toBe(409);
    expect(lateReturn.body.reason).toBe('return_window_closed');
    expect((await api.post(TICKETS, staff.ops, { kind: 'no_reason_return', orderId: await order('m-as', { receivedAgoMs: 7 * DAY - 60_000 }), description: 'x' })).status).toBe(201);
    const notReceived = await order('m-as', { status: 'paid' });
    expect((await api.post(TICKETS, staff.ops, { kind: 'no_reason_return', orderId: notReceived, description: 'x' })).body.reason).toBe('order_not_received');
    expect((await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: notReceived, description: 'not shipped' })).status).toBe(201);
    expect((await api.post(TICKETS, staff.ops, { kind: 'no_reason_return', orderId: await order('m-as', { status: 'refunded' }), description: 'x' })).body.reason).toBe('order_refunded');
    expect((await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: 'o-none', description: 'x' })).status).toBe(404);

    expect((await api.post(TICKETS, merchant('m-as'), { kind: 'complaint', orderId: first.body.orderId, description: 'x' })).status).toBe(403);
    expect((await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: first.body.orderId, description: 'x', extra: 1 })).status).toBe(400);
    const unstorable = await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: first.body.orderId, description: 'bad\u0000text' });
    expect(unstorable.status).toBe(400);
    expect((await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: 'o-\ud800', description: 'x' })).status).toBe(400);
    expect((await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: first.body.orderId, description: 'x'.repeat(2001) })).status).toBe(400);
  });

  test('a creation retried under its Idempotency-Key answers the first ticket and opens no second', async () => {
    const token = await stack.token(staff.ops);
    const body = { kind: 'complaint', orderId: await order('m-as-idem'), description: 'broken' };
    const send = () => request(stack.app).post(TICKETS).set('Authorization', `Bearer ${token}`).set('Idempotency-Key', 'ticket-retry-0001').send(body);
    const first = await send();
    expect(first.status).toBe(201);
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.ticketId).toBe(first.body.ticketId);
    expect(await stack.db('after_sales_tickets').where({ order_id: body.orderId })).toHaveLength(1);
  });

  test('take and resolve: the assignee or a free agent of the category takes; who took it resolves, once', async () => {
    const opened = await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: await order('m-as'), description: 'wrong colour' });
    const { ticketId, assignee } = opened.body as { ticketId: string; assignee: string };
    const other = assignee === 'amy' ? 'bob' : 'amy';
    const take = (who: TokenClaims) => api.post(`${TICKETS}/${ticketId}/take`, who, {});
    const resolve = (who: TokenClaims, resolution: string) => api.post(`${TICKETS}/${ticketId}/resolve`, who, { resolution });

    expect((await take(agent('bea'))).status).toBe(403); // beauty only
    expect((await take(staff.ops)).status).toBe(403); // olga is no agent
    expect((await take(merchant('m-as'))).status).toBe(403);
    const clash = await take(agent(other));
    expect(clash.status).toBe(409);
    expect(clash.body.assignee).toBe(assignee);
    expect((await resolve(agent(assignee), 'done')).status).toBe(409); // not taken yet

    const taken = await take(agent(assignee));
    expect(taken.status).toBe(200);
    expect(taken.body).toMatchObject({ state: 'taken', assignee, takenAt: expect.any(String) });
    expect((await take(agent(assignee))).body.takenAt).toBe(taken.body.takenAt);
    expect((await resolve(agent(other), 'mine')).status).toBe(409);
    expect((await resolve(agent(assignee), '')).status).toBe(400);
    expect((await resolve(agent(assignee), 'bad\u0007')).status).toBe(400);
    const resolved = await resolve(agent(assignee), 'replacement sent');
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ state: 'resolved', resolution: 'replacement sent', resolvedBy: assignee, withinTarget: true, overdue: false });
    expect((await resolve(agent(assignee), 'again')).status).toBe(409);
    expect((await take(agent(assignee))).status).toBe(409);
    expect((await api.post(`${TICKETS}/ast_${'0'.repeat(24)}/take`, agent(assignee), {})).status).toBe(404);
    expect(await auditOf(`ticket:${ticketId}`, 2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'after_sales.ticket.take', actor_sub: assignee, outcome: 'succeeded' }),
        expect.objectContaining({ action: 'after_sales.ticket.resolve', actor_sub: assignee, outcome: 'succeeded' }),
        expect.objectContaining({ action: 'after_sales.ticket.take', actor_sub: other, outcome: 'refused', status_code: 409 }),
      ]),
    );

    // An unassigned ticket (no agent handled toys then) goes to an agent registered for it later.
    const toys = await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: await order('m-as', { category: 'toys' }), description: 'x' });
    expect(toys.body.assignee).toBeNull();
    expect((await api.post(`${TICKETS}/${toys.body.ticketId}/take`, agent('bob'), {})).status).toBe(403);
    await api.post('/v1/after-sales/agents', staff.admin, { agentId: 'bob', categories: ['apparel', 'toys'] });
    expect((await api.post(`${TICKETS}/${toys.body.ticketId}/take`, agent('bob'), {})).body).toMatchObject({ state: 'taken', assignee: 'bob' });
  });

  test('lists and reads: filters, paging, and a merchant sees its own tickets only', async () => {
    const other = await api.post(TICKETS, staff.ops, { kind: 'complaint', orderId: await order('m-as-other'), description: 'x' });
    const mine = await api.get(`${TICKETS}?limit=200`, merchant('m-as'));
    expect(mine.status).toBe(200);
    expect(mine.body.items.length).toBeGreaterThan(3);
    expect(new Set(mine.body.items.map((t: { merchantId: string }) => t.merchantId))).toEqual(new Set(['m-as']));
    expect((await api.get(`${TICKETS}?merchantId=m-as-other`, merchant('m-as'))).status).toBe(404);
    expectAnsweredAsMissing(await api.get(`${TICKETS}/${other.body.ticketId}`, merchant('m-as')), await api.get(`${TICKETS}/ast_${'f'.repeat(24)}`, merchant('m-as')), {
      existing: other.body.ticketId,
      unknown: `ast_${'f'.repeat(24)}`,
    });
    expect((await api.get(`${TICKETS}/${other.body.ticketId}`, merchant('m-as-other'))).body.ticketId).toBe(other.body.ticketId);

    const resolved = await api.get(`${TICKETS}?state=resolved`, staff.ops);
    expect(resolved.body.items.map((t: { state: string }) => t.state)).toEqual(['resolved']);
    const bobs = await api.get(`${TICKETS}?assignee=bob&category=apparel`, staff.admin);
    expect(bobs.body.items.length).toBeGreaterThan(0);
    expect(bobs.body.items.every((t: { assignee: string; category: string }) => t.assignee === 'bob' && t.category === 'apparel')).toBe(true);

    // Paging, newest first, every ticket once.
    const all = await stack.db('after_sales_tickets').count<{ count: string }[]>('* as count');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ ticketId: string }>; nextCursor: string | null } } = await api.get(`${TICKETS}?limit=3${cursor ? `&cursor=${cursor}` : ''}`, staff.ops);
      seen.push(...page.body.items.map((t) => t.ticketId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(Number(all[0]!.count));
    expect(new Set(seen).size).toBe(seen.length);
    expect((await api.get(`${TICKETS}?state=closed`, staff.ops)).status).toBe(400);
    // A shop id as the shops routes take it (up to 80 characters); one of another merchant lists nothing.
    expect(await api.get(`${TICKETS}?shopId=${'s'.repeat(80)}`, staff.ops)).toMatchObject({ status: 200, body: { items: [] } });
    expect(await api.get(`${TICKETS}?shopId=shop-m-as-other`, merchant('m-as'))).toMatchObject({ status: 200, body: { items: [] } });
    expect((await api.get(`${TICKETS}?shopId=shop-m-as-other`, staff.ops)).body.items).toEqual([expect.objectContaining({ ticketId: other.body.ticketId })]);
  });

  test('the summary counts per category, and the resolved within the 48-hour target', async () => {
    const summary = await api.get('/v1/after-sales/summary', staff.ops);
    expect(summary.status).toBe(200);
    const apparel = summary.body.categories.find((c: { category: string }) => c.category === 'apparel');
    expect(apparel).toMatchObject({ resolved: 1, resolvedWithinTarget: 1, overdue: 0 });
    expect(apparel.open + apparel.taken).toBeGreaterThan(0);
    const own = await api.get('/v1/after-sales/summary', merchant('m-as-other'));
    expect(own.body.categories).toEqual([expect.objectContaining({ category: 'apparel', open: 1, resolved: 0 })]);
    expect((await api.get('/v1/after-sales/summary?merchantId=m-as', merchant('m-as-other'))).status).toBe(404);
    // The document says so too.
    const document = await request(stack.app).get('/openapi.json');
    expect(Object.keys(document.body.paths['/v1/after-sales/summary'].get.responses)).toContain('404');
  });
  test('racing requests: of two openings for one order and kind, two agents taking one ticket, a resolve and a take, one wins and the others are 409s', async () => {
    const orderId = await order('m-as-race', { category: 'garden' });
    const opened = await Promise.all([1, 2, 3].map(() => api.post(TICKETS, staff.ops, { kind: 'complaint', orderId, description: 'cracked pot' })));
    expect(opened.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const ticketId = opened.find((r) => r.status === 201)!.body.ticketId as string;
    expect(opened.filter((r) => r.status === 409).map((r) => r.body)).toEqual([expect.objectContaining({ reason: 'ticket_open', ticketId }), expect.objectContaining({ reason: 'ticket_open', ticketId })]);
    expect(await stack.db('after_sales_tickets').where({ order_id: orderId })).toHaveLength(1);

    // Opened while nobody handled garden: free for whichever agent registered since takes it first.
    for (const agentId of ['gil', 'gwen']) await api.post('/v1/after-sales/agents', staff.admin, { agentId, categories: ['garden'] });
    const takes = await Promise.all(['gil', 'gwen'].map((who) => api.post(`${TICKETS}/${ticketId}/take`, agent(who), {})));
    expect(takes.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = takes.find((r) => r.status === 200)!.body.assignee as string;
    expect(takes.find((r) => r.status === 409)!.body.assignee).toBe(winner);

    const [resolved, takenAgain] = await Promise.all([
      api.post(`${TICKETS}/${ticketId}/resolve`, agent(winner), { resolution: 'replaced' }),
      api.post(`${TICKETS}/${ticketId}/take`, agent(winner), {}),
    ]);
    expect(resolved.status).toBe(200);
    // Before the resolve: its own taken ticket, unchanged; after it: resolved already.
    expect([200, 409]).toContain(takenAgain.status);
    expect(await stack.db('after_sales_tickets').where({ id: ticketId }).first('state', 'assignee', 'resolved_by')).toEqual({ state: 'resolved', assignee: winner, resolved_by: winner });
  });
});
