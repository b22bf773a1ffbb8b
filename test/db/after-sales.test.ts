import type { Knex } from 'knex';
import { createAfterSalesRepository, type AfterSalesRepository, type TicketFilters, type TicketOrder } from '../../db/repositories/after-sales';
import { addOrder } from '../support/after-sales';
import { createTestDb, type TestDb } from '../support/db';

const HOUR = 3_600_000;

describe('after-sales tickets in the database', () => {
  let t: TestDb;
  let repo: AfterSalesRepository;
  let seq = 0;
  beforeAll(async () => {
    t = await createTestDb();
    repo = createAfterSalesRepository(t.db);
    await repo.saveAgent({ id: 'amy', categories: ['apparel', 'beauty'], active: true, by: 'ada' });
    await repo.saveAgent({ id: 'bob', categories: ['apparel'], active: true, by: 'ada' });
    await repo.saveAgent({ id: 'cy', categories: ['apparel'], active: true, by: 'ada' });
    // Never a turn in apparel: one handles beauty only, the other is inactive.
    await repo.saveAgent({ id: 'bea', categories: ['beauty'], active: true, by: 'ada' });
    await repo.saveAgent({ id: 'dan', categories: ['apparel'], active: false, by: 'ada' });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** A fresh order of the category and a ticket for it, created at `createdAt`. */
  async function open(category: string, createdAt = new Date(), kind: 'complaint' | 'no_reason_return' = 'complaint') {
    const n = ++seq;
    const id = `o-${n}`;
    await addOrder(t.db, { id, merchantId: 'm-1', category });
    const order = (await repo.order(id)) as TicketOrder;
    return repo.createTicket({ id: `ast_${String(n).padStart(24, '0')}`, kind, order, description: 'the zip broke', createdBy: 'olga', createdAt, dueAt: new Date(createdAt.getTime() + 48 * HOUR) });
  }

  /** The statements `run` sends, with their bindings, as knex hands them to the driver. */
  async function statementsOf(run: () => Promise<unknown>): Promise<Array<{ sql: string; bindings: unknown[] }>> {
    const seen: Array<{ sql: string; bindings: unknown[] }> = [];
    const listen = (q: { sql: string; bindings?: unknown[] }) => void seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
    t.db.on('query', listen);
    try {
      await run();
    } finally {
      t.db.removeListener('query', listen);
    }
    return seen;
  }

  /** The plan of a statement with the scans that read every row priced out (the seed is tiny): only an index can serve it. */
  async function planOf(statement: { sql: string; bindings: unknown[] }): Promise<string> {
    return t.db.transaction(async (trx) => {
      for (const setting of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort']) await trx.raw(`SET LOCAL ${setting} = off`);
      // The driver's $1, $2… back to knex's placeholders, in the same order.
      const { rows } = (await trx.raw(`EXPLAIN ${statement.sql.replace(/\$\d+/g, '?')}`, statement.bindings as Knex.RawBinding[])) as { rows: Array<{ 'QUERY PLAN': string }> };
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  }

  test.each<[string, TicketFilters, string]>([
    ['all tickets', {}, 'after_sales_tickets_created'],
    ["a merchant's own (every merchant token's list)", { merchantId: 'm-1' }, 'after_sales_tickets_merchant'],
    ['one shop', { shopId: 'shop-m-1' }, 'after_sales_tickets_shop'],
    ['the open ones (what ops work from)', { state: 'open' }, 'after_sales_tickets_state'],
    ["an agent's", { assignee: 'amy' }, 'after_sales_tickets_assignee'],
    ['a category', { category: 'apparel' }, 'after_sales_tickets_category'],
  ])('the list of %s: a page after a cursor is read from %s, in order, without sorting', async (_name, filters, index) => {
    const [page] = await statementsOf(() => repo.ticketsPage(filters, ['2026-12-01T00:00:00.000000Z', 'ast_5'], 50));
    const plan = await planOf(page!);
    expect(plan).toContain(index);
    expect(plan).not.toMatch(/\bSort\b/);
  });

  test('the escalation scan pages through the unresolved tickets by id, and the untold escalations, from their partial indexes', async () => {
    const asOf = new Date(Date.UTC(2026, 11, 1));
    const [overdue] = await statementsOf(() => repo.escalatePage(asOf, new Date(asOf.getTime() + 24 * HOUR), 'ast_0', 500));
    const overduePlan = await planOf(overdue!);
    expect(overduePlan).toContain('after_sales_tickets_overdue');
    expect(overduePlan).not.toMatch(/\bSort\b/);
    const [untold] = await statementsOf(() => repo.unnotified('ast_0', 500));
    expect(await planOf(untold!)).toContain('after_sales_tickets_unnotified');
  });

  test("a new ticket finds its category's active agents through their index", async () => {
    const statements = await statementsOf(() => open('garden'));
    const agents = statements.find((q) => /from "after_sales_agents"/.test(q.sql));
    expect(await planOf(agents!)).toContain('after_sales_agents_categories');
  });

  test('an agent is registered once and changed in place', async () => {
    expect((await repo.saveAgent({ id: 'eve', categories: ['digital'], active: true, by: 'ada' })).created).toBe(true);
    const changed = await repo.saveAgent({ id: 'eve', categories: ['digital', 'toys'], active: false, by: 'ada' });
    expect(changed).toMatchObject({ created: false, row: { id: 'eve', categories: ['digital', 'toys'], active: false } });
  });

  test('tickets go round the active agents of their category in id order, skipping the others', async () => {
    const assignees = [];
    for (let i = 0; i < 7; i++) assignees.push((await open('apparel')).assignee);
    expect(assignees).toEqual(['amy', 'bob', 'cy', 'amy', 'bob', 'cy', 'amy']);
    // Beauty has its own round.
    expect([(await open('beauty')).assignee, (await open('beauty')).assignee, (await open('beauty')).assignee]).toEqual(['amy', 'bea', 'amy']);
    // No agent for the category: unassigned, and the ticket is still opened.
    expect(await open('toys-for-nobody')).toMatchObject({ assignee: null, state: 'open' });
  });

  test('30 tickets created at once: every one a turn of its own, 10 each, none to an agent outside the category', async () => {
    const before = await t.db('after_sales_tickets').where({ category: 'apparel' }).select('assignee');
    const tickets = await Promise.all(Array.from({ length: 30 }, () => open('apparel')));
    const counts: Record<string, number> = {};
    for (const ticket of tickets) counts[ticket.assignee ?? 'none'] = (counts[ticket.assignee ?? 'none'] ?? 0) + 1;
    expect(counts).toEqual({ amy: 10, bob: 10, cy: 10 });
    // The round carries on from where it was: after the 7 above (last: amy) the next is bob.
    expect(before).toHaveLength(7);
    expect(await t.db('after_sales_rounds').where({ category: 'apparel' }).first('last_agent_id')).toEqual({ last_agent_id: 'amy' });
  });

  test('a second unresolved ticket of the order and kind is refused, and takes no turn', async () => {
    const first = await open('beauty', new Date(), 'no_reason_return');
    const order = (await repo.order(first.order_id)) as TicketOrder;
    const round = () => t.db('after_sales_rounds').where({ category: 'beauty' }).first('last_agent_id');
    const turn = await round();
    await expect(repo.createTicket({ id: 'ast_dup', kind: 'no_reason_return', order, description: 'again', createdBy: 'olga', createdAt: new Date(), dueAt: new Date(Date.now() + HOUR) })).rejects.toMatchObject({
      code: '23505',
      constraint: 'after_sales_tickets_one_open',
    });
    expect(await round()).toEqual(turn);
    expect(await repo.openTicketOf(first.order_id, 'no_reason_return')).toEqual({ id: first.id });
    // A complaint about the same order is another kind: allowed.
    expect((await repo.createTicket({ id: 'ast_complaint', kind: 'complaint', order, description: 'rude', createdBy: 'olga', createdAt: new Date(), dueAt: new Date(Date.now() + HOUR) })).kind).toBe('complaint');
  });

  test('take and resolve: the assignee takes its own, others of the category only what no active agent holds; resolved once by who took it', async () => {
    const at = new Date();
    const ticket = await open('apparel');
    const holder = ticket.assignee!;
    const other = ['amy', 'bob', 'cy'].find((a) => a !== holder)!;
    expect(await repo.take(ticket.id, 'bea', at)).toMatchObject({ outcome: 'not_in_categories' });
    expect(await repo.take(ticket.id, 'dan', at)).toMatchObject({ outcome: 'not_an_agent' });
    expect(await repo.take(ticket.id, 'nobody', at)).toMatchObject({ outcome: 'not_an_agent' });
    expect(await repo.take(ticket.id, other, at)).toMatchObject({ outcome: 'taken_by_other' });
    expect(await repo.resolve(ticket.id, holder, 'done', at)).toMatchObject({ outcome: 'not_taken_by_caller' });
    expect(await repo.take(ticket.id, holder, at)).toMatchObject({ outcome: 'taken', row: { state: 'taken', assignee: holder } });
    // Again: harmless, unchanged.
    expect(await repo.take(ticket.id, holder, new Date(at.getTime() + 1000))).toMatchObject({ outcome: 'taken', row: { taken_at: at } });
    expect(await repo.take(ticket.id, other, at)).toMatchObject({ outcome: 'taken_by_other' });
    expect(await repo.resolve(ticket.id, other, 'mine now', at)).toMatchObject({ outcome: 'not_taken_by_caller' });
    expect(await repo.resolve(ticket.id, holder, 'refund approved', at)).toMatchObject({ outcome: 'resolved', row: { state: 'resolved', resolution: 'refund approved', resolved_by: holder } });
    expect(await repo.resolve(ticket.id, holder, 'again', at)).toMatchObject({ outcome: 'already_resolved' });
    expect(await repo.take(ticket.id, holder, at)).toMatchObject({ outcome: 'resolved' });
    expect(await repo.take('ast_missing', holder, at)).toEqual({ outcome: 'missing' });

    // The holder leaves: another agent of the category may take what it held, even taken.
    const held = await open('apparel');
    expect(await repo.take(held.id, held.assignee!, at)).toMatchObject({ outcome: 'taken' });
    await repo.saveAgent({ id: held.assignee!, categories: ['apparel', ...(held.assignee === 'amy' ? ['beauty'] : [])], active: false, by: 'ada' });
    const successor = ['amy', 'bob', 'cy'].find((a) => a !== held.assignee)!;
    expect(await repo.take(held.id, successor, at)).toMatchObject({ outcome: 'taken', row: { assignee: successor } });
    await repo.saveAgent({ id: held.assignee!, categories: ['apparel', ...(held.assignee === 'amy' ? ['beauty'] : [])], active: true, by: 'ada' });
  });

  test('the escalation page: only unresolved tickets past due, by id, each once at an instant', async () => {
    await t.db('after_sales_tickets').update({ state: 'resolved', resolution: 'x', resolved_by: 'x', resolved_at: new Date() }).whereNot({ state: 'resolved' });
    const created = new Date(Date.UTC(2026, 11, 1, 0, 0, 0));
    const late = [await open('apparel', created), await open('apparel', created), await open('beauty', created)];
    const onTime = await open('apparel', new Date(created.getTime() + HOUR));
    const resolved = await open('apparel', created);
    await repo.take(resolved.id, resolved.assignee!, created);
    await repo.resolve(resolved.id, resolved.assignee!, 'done', created);
    // One hour after the first three's deadline, exactly at the fourth's: it is still on time.
    const asOf = new Date(created.getTime() + 49 * HOUR);
    const nextDue = new Date(asOf.getTime() + 24 * HOUR);
    const first = await repo.escalatePage(asOf, nextDue, '', 2);
    expect(first.ids).toEqual([late[0]!.id, late[1]!.id]);
    const second = await repo.escalatePage(asOf, nextDue, first.scanned!, 2);
    expect(second.ids).toEqual([late[2]!.id]);
    expect(await repo.escalatePage(asOf, nextDue, second.scanned!, 2)).toEqual({ ids: [], scanned: null });
    // A rerun at the same instant finds nothing due.
    expect(await repo.escalatePage(asOf, nextDue, '', 10)).toEqual({ ids: [], scanned: null });
    expect(await repo.ticket(onTime.id)).toMatchObject({ escalation_level: 0 });
    expect(await repo.ticket(resolved.id)).toMatchObject({ escalation_level: 0 });
    expect(await repo.ticket(late[0]!.id)).toMatchObject({ escalation_level: 1, notified_level: 0, due_at: nextDue, escalated_at: asOf });
    expect((await repo.unnotified('', 10)).map((r) => r.id)).toEqual(late.map((r) => r.id));
    await repo.markNotified(late[0]!.id, 1);
    expect((await repo.unnotified('', 10)).map((r) => r.id)).toEqual([late[1]!.id, late[2]!.id]);

    const summary = await repo.summary(asOf);
    expect(summary.find((s) => s.category === 'beauty')).toMatchObject({ open: 1, overdue: 0, escalated: 1 });
    expect(summary.find((s) => s.category === 'apparel')).toMatchObject({ open: 3, overdue: 0, escalated: 2, resolvedWithinTarget: expect.any(Number) });
    // A day and a bit later the escalated ones are overdue again; the on-time one is long overdue.
    expect((await repo.summary(new Date(nextDue.getTime() + 1))).find((s) => s.category === 'apparel')).toMatchObject({ overdue: 3 });
  });
});
