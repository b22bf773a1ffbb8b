import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAfterSalesActivities } from '../../activities/after-sales';
import { createAfterSalesRepository, type TicketOrder } from '../../db/repositories/after-sales';
import { ErrorType } from '../../domain/errors';
import type { NotificationInput, PlatformClient } from '../../platform/types';
import { addOrder } from '../support/after-sales';
import { createTestDb, type TestDb } from '../support/db';

const HOUR = 3_600_000;

/**
 * A platform whose notify refuses one merchant for good, and whose answer to the `lostAt`-th
 * call is lost after the notice was accepted (a timeout); it keeps one notice per key, and
 * refuses a key sent again with another body (422, idempotency_key_reused), as the platform does.
 */
function notifyingPlatform(refused: string, lostAt: number) {
  const byKey = new Map<string, NotificationInput>();
  let calls = 0;
  const platform = {
    async notify(input: NotificationInput, key: string) {
      calls += 1;
      if (input.merchantId === refused) throw ApplicationFailure.create({ message: 'unknown merchant', type: ErrorType.PlatformRejected, nonRetryable: true });
      const first = byKey.get(key);
      if (first && JSON.stringify(first) !== JSON.stringify(input)) throw ApplicationFailure.create({ message: 'idempotency_key_reused', type: ErrorType.PlatformRejected, nonRetryable: true });
      byKey.set(key, input);
      if (calls === lostAt) throw ApplicationFailure.create({ message: 'platform timed out', type: ErrorType.PlatformUnavailable });
      return { notificationId: `ntf-${calls}`, acceptedAt: '2026-12-01T00:00:00.000Z' };
    },
  } as unknown as PlatformClient;
  return { platform, byKey, calls: () => calls };
}

describe('escalateOverdueTickets', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const created = new Date(Date.UTC(2026, 11, 1));
  const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  /** A complaint of the merchant opened at `created`, due 48 hours later. */
  async function ticketOf(n: number, merchantId: string) {
    const repo = createAfterSalesRepository(t.db);
    await addOrder(t.db, { id: `o-${n}`, merchantId, category: 'apparel' });
    const order = (await repo.order(`o-${n}`)) as TicketOrder;
    return repo.createTicket({ id: `ast_${String(n).padStart(24, '0')}`, kind: 'complaint', order, description: 'x', createdBy: 'olga', createdAt: created, dueAt: new Date(created.getTime() + 48 * HOUR) });
  }

  test.each([0, -1, 1.5])('a page size of %p is refused for good rather than looping', async (pageSize) => {
    const { platform, calls } = notifyingPlatform('m-none', 0);
    const scan = createAfterSalesActivities({ db: t.db, platform }).escalateOverdueTickets;
    const failure = await env().run(scan, { asOf: created.toISOString(), pageSize }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: ErrorType.DataRejected, nonRetryable: true });
    expect(calls()).toBe(0);
  });

  test('an attempt that fails mid-way is retried without escalating twice; a refused notice is left for the next scan', async () => {
    const ids: string[] = [];
    for (const [i, merchantId] of ['m-a', 'm-b', 'm-refused', 'm-c'].entries()) ids.push((await ticketOf(i, merchantId)).id);
    // The second notice's answer is lost: the attempt fails after escalating all four.
    const { platform, byKey, calls } = notifyingPlatform('m-refused', 2);
    const scan = createAfterSalesActivities({ db: t.db, platform }).escalateOverdueTickets;
    const input = { asOf: new Date(created.getTime() + 50 * HOUR).toISOString(), pageSize: 2 };

    await expect(env().run(scan, input)).rejects.toMatchObject({ type: ErrorType.PlatformUnavailable });
    expect((await t.db('after_sales_tickets').orderBy('id').pluck('escalation_level')).map(Number)).toEqual([1, 1, 1, 1]);

    // The retry (no heartbeat kept by the mock: from the start) escalates none again and sends
    // the lost notice again under its key; the platform holds one per ticket and level.
    expect(await env().run(scan, input)).toEqual({ asOf: input.asOf, escalated: 0, notified: 2, refused: 1 });
    expect([...byKey.keys()].sort()).toEqual([ids[0], ids[1], ids[3]].map((id) => `ticket-escalation:${id}:1`));
    expect((await t.db('after_sales_tickets').orderBy('id').pluck('notified_level')).map(Number)).toEqual([1, 1, 0, 1]);

    // The next scan tries the refused one only.
    const before = calls();
    expect(await env().run(scan, input)).toEqual({ asOf: input.asOf, escalated: 0, notified: 0, refused: 1 });
    expect(calls() - before).toBe(1);
  });
  test('a notice whose answer was lost is sent again under its key with the same body, though the ticket changed hands meanwhile', async () => {
    await t.db('after_sales_tickets').delete();
    const ticket = await ticketOf(10, 'm-handover');
    const { platform, byKey } = notifyingPlatform('m-none', 1);
    const scan = createAfterSalesActivities({ db: t.db, platform }).escalateOverdueTickets;
    const input = { asOf: new Date(created.getTime() + 50 * HOUR).toISOString() };
    await expect(env().run(scan, input)).rejects.toMatchObject({ type: ErrorType.PlatformUnavailable });
    // Before the retry another agent takes the ticket over.
    await t.db('after_sales_tickets').where({ id: ticket.id }).update({ assignee: 'zoe', state: 'taken', taken_at: new Date() });
    expect(await env().run(scan, input)).toEqual({ asOf: input.asOf, escalated: 0, notified: 1, refused: 0 });
    expect([...byKey.keys()]).toEqual([`ticket-escalation:${ticket.id}:1`]);
    expect(await t.db('after_sales_tickets').where({ id: ticket.id }).first('notified_level')).toEqual({ notified_level: 1 });
  });

  test('an escalation the platform refused is not chased any more once its ticket is resolved', async () => {
    await t.db('after_sales_tickets').delete();
    const ticket = await ticketOf(20, 'm-gone');
    const { platform, calls } = notifyingPlatform('m-gone', 0);
    const scan = createAfterSalesActivities({ db: t.db, platform }).escalateOverdueTickets;
    const input = { asOf: new Date(created.getTime() + 50 * HOUR).toISOString() };
    expect(await env().run(scan, input)).toEqual({ asOf: input.asOf, escalated: 1, notified: 0, refused: 1 });
    await t.db('after_sales_tickets').where({ id: ticket.id }).update({ state: 'resolved', resolution: 'refunded', resolved_by: 'amy', resolved_at: new Date() });
    const before = calls();
    expect(await env().run(scan, input)).toEqual({ asOf: input.asOf, escalated: 0, notified: 0, refused: 0 });
    expect(calls()).toBe(before);
  });
});
