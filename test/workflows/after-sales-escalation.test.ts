import { Client } from '@temporalio/client';
import { createAfterSalesRepository, type TicketOrder } from '../../db/repositories/after-sales';
import { escalationNoticeKey, handlingDueAt } from '../../domain/after-sales';
import { AFTER_SALES_ESCALATION_WORKFLOW_TYPE, afterSalesEscalationWorkflowId, type AfterSalesEscalationResult } from '../../workflows/after-sales-escalation.defs';
import { addOrder } from '../support/after-sales';
import { startStack, type Stack } from '../support/stack';

jest.setTimeout(120_000);

const HOUR = 3_600_000;

describe('the after-sales escalation scan (time-skipping, real activities)', () => {
  let stack: Stack;
  // Waits without skipping time: the clock moves only where the test sleeps.
  let client: Client;
  let runs = 0;
  beforeAll(async () => {
    stack = await startStack();
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const now = async () => new Date(await stack.env.currentTimeMs());
  // Each run under an id of its own, as the schedule's runs get.
  const scan = (pageSize?: number) =>
    client.workflow.execute(AFTER_SALES_ESCALATION_WORKFLOW_TYPE, {
      workflowId: `${afterSalesEscalationWorkflowId()}-${++runs}`,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ pageSize }],
    }) as Promise<AfterSalesEscalationResult>;
  const noticeCalls = (ticketId: string) =>
    stack.sandbox.state.calls.filter((c) => c.path.endsWith('/notifications') && String(c.idempotencyKey).startsWith(`ticket-escalation:${ticketId}:`));
  const notices = (ticketId: string) =>
    stack.sandbox.state.notifications.filter((n) => n.template === 'after_sales_ticket_escalated' && (n.data as { ticketId: string }).ticketId === ticketId);

  test('a ticket left past its 48 hours escalates once per period, ops told once per level; a resolved one never', async () => {
    const repo = createAfterSalesRepository(stack.db);
    await repo.saveAgent({ id: 'olga', categories: ['apparel'], active: true, by: 'ada' });
    const open = async (orderId: string) => {
      await addOrder(stack.db, { id: orderId, merchantId: 'm-esc', category: 'apparel', receiptConfirmedAt: await now() });
      const createdAt = await now();
      const order = (await repo.order(orderId)) as TicketOrder;
      return repo.createTicket({ id: `ast_${orderId.padStart(24, '0')}`, kind: 'no_reason_return', order, description: 'too small', createdBy: 'olga', createdAt, dueAt: new Date(handlingDueAt(createdAt.getTime())) });
    };
    const late = await open('1');
    const handled = await open('2');
    const created = late.created_at.getTime();

    // 47 hours on: both still within their target.
    await stack.env.sleep(47 * HOUR);
    expect(await scan()).toMatchObject({ escalated: 0, notified: 0 });

    // The second is taken and resolved in time; the first is left past its 48 hours.
    await repo.take(handled.id, 'olga', await now());
    await repo.resolve(handled.id, 'olga', 'refund approved', await now());
    await stack.env.sleep(HOUR + 60_000);
    const first = await scan(1);
    expect(first).toMatchObject({ escalated: 1, notified: 1, refused: 0 });
    const escalatedAt = Date.parse(first.asOf);
    expect(escalatedAt).toBeGreaterThan(created + 48 * HOUR);
    expect(await repo.ticket(late.id)).toMatchObject({ state: 'open', escalation_level: 1, notified_level: 1, due_at: new Date(escalatedAt + 24 * HOUR) });
    expect(notices(late.id)).toEqual([
      expect.objectContaining({ recipient: 'ops', merchantId: 'm-esc', data: expect.objectContaining({ ticketId: late.id, level: 1, category: 'apparel', orderId: late.order_id }) }),
    ]);
    // The consumer's words stay out of the notice.
    expect(JSON.stringify(notices(late.id))).not.toContain('too small');

    // A rerun at once: nothing due, nothing told again.
    expect(await scan()).toMatchObject({ escalated: 0, notified: 0 });
    // A notice whose sending was lost to a crash (escalated, not marked): the next scan sends it
    // under the same key, and the platform still holds one notice.
    await stack.db('after_sales_tickets').where({ id: late.id }).update({ notified_level: 0 });
    expect(await scan()).toMatchObject({ escalated: 0, notified: 1 });
    expect(noticeCalls(late.id).map((c) => c.idempotencyKey)).toEqual([escalationNoticeKey(late.id, 1), escalationNoticeKey(late.id, 1)]);
    expect(notices(late.id)).toHaveLength(1);

    // Still unresolved 24 hours after the escalation: level 2, told once more.
    await stack.env.sleep(24 * HOUR + 60_000);
    expect(await scan()).toMatchObject({ escalated: 1, notified: 1 });
    expect(await repo.ticket(late.id)).toMatchObject({ escalation_level: 2, notified_level: 2 });
    expect(notices(late.id).map((n) => (n.data as { level: number }).level)).toEqual([1, 2]);

    // Resolved at last: no further escalation however long it waits; the handled one never escalated.
    await repo.take(late.id, 'olga', await now());
    await repo.resolve(late.id, 'olga', 'returned and refunded', await now());
    await stack.env.sleep(72 * HOUR);
    expect(await scan()).toMatchObject({ escalated: 0, notified: 0 });
    expect(await repo.ticket(handled.id)).toMatchObject({ state: 'resolved', escalation_level: 0 });
    expect(notices(handled.id)).toEqual([]);
    const [summary] = await repo.summary(await now());
    expect(summary).toMatchObject({ category: 'apparel', resolved: 2, resolvedWithinTarget: 1, escalated: 1, overdue: 0 });
  });
});
