import { Client, WorkflowFailedError } from '@temporalio/client';
import { ORDER_PARTITIONS_ACTOR } from '../../activities/order-partitions';
import { addMonths, shanghaiMonth } from '../../domain/order-partitions';
import { ORDER_PARTITIONS_WORKFLOW_TYPE, orderPartitionsWorkflowId, type OrderPartitionsResult } from '../../workflows/order-partitions.defs';
import { startStack, type Stack } from '../support/stack';

/**
 * The partition process on the time-skipping server with the real activity and database (as
 * the app's role, as the worker connects), started directly: its schedule only repeats this.
 * The migration made partitions through 3 months ahead of the real month; the server's clock
 * starts at the real time, and is moved past a month end to show the window moves with it.
 */
describe('order partitions workflow (time-skipping)', () => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack();
    // A plain client: awaiting results through the time-skipping one would skip time.
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  let run = 0;
  const ensure = (input: Record<string, unknown> = {}) =>
    client.workflow.execute(ORDER_PARTITIONS_WORKFLOW_TYPE, {
      workflowId: `${orderPartitionsWorkflowId()}:${++run}`,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [input],
    }) as Promise<OrderPartitionsResult>;
  const attached = async () =>
    ((await stack.db.raw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'orders'::regclass`)) as { rows: Array<{ relname: string }> }).rows.map((r) => r.relname);

  test('creates what is missing up to the months ahead, audits it once, and a second run creates nothing', async () => {
    const month = shanghaiMonth(new Date(Number(await stack.env.currentTimeMs())));
    // The migration's 3 months ahead are there: the default run has nothing to do.
    expect(await ensure()).toMatchObject({ from: month, through: addMonths(month, 3), created: [] });

    const wider = await ensure({ monthsAhead: 5 });
    expect(wider).toMatchObject({ from: month, through: addMonths(month, 5), created: [addMonths(month, 4), addMonths(month, 5)] });
    expect(await attached()).toEqual(expect.arrayContaining([`orders_${addMonths(month, 5).replace('-', '_')}`]));
    expect((await ensure({ monthsAhead: 5 })).created).toEqual([]);

    const audit = await stack.db('audit_log').where({ action: 'orders.partitions_created' }).select('actor_sub', 'actor_role', 'request_id', 'details');
    expect(audit).toEqual([
      { actor_sub: ORDER_PARTITIONS_ACTOR, actor_role: 'system', request_id: expect.stringMatching(/^order-partitions:orders:2\//), details: expect.objectContaining({ created: wider.created }) },
    ]);
  });

  test('a run after the month turns makes the new month’s last partition', async () => {
    const before = shanghaiMonth(new Date(Number(await stack.env.currentTimeMs())));
    // Into the next Shanghai month (31 days reach past the end of any month from its 1st).
    await stack.env.sleep('32 days');
    const after = shanghaiMonth(new Date(Number(await stack.env.currentTimeMs())));
    expect(after > before).toBe(true);
    const result = await ensure({ monthsAhead: 5 });
    expect(result.from).toBe(after);
    expect(result.created).toEqual(after === addMonths(before, 1) ? [addMonths(after, 5)] : [addMonths(before, 6), addMonths(after, 5)]);
  });

  test('refuses a number of months it cannot mean, for good', async () => {
    await expect(ensure({ monthsAhead: 1.5 })).rejects.toThrow(WorkflowFailedError);
    await expect(ensure({ monthsAhead: 25 })).rejects.toMatchObject({ cause: expect.objectContaining({ type: 'DataRejected', message: expect.stringMatching(/monthsAhead must be a whole number/) }) });
  });
});
