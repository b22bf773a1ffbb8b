import { Client } from '@temporalio/client';
import { FULFILMENT_SCAN_WORKFLOW_TYPE, fulfilmentScanWorkflowId, type FulfilmentScanResult } from '../../workflows/fulfilment-scan.defs';
import { fulfilmentOrder as order, HOUR, publishAndImport } from '../support/fulfilment';
import { startStack, type Stack } from '../support/stack';

/**
 * The fulfilment scan on the time-skipping server with the real activities, database and
 * sandbox platform, started directly (its schedule only repeats this). The workflow judges
 * at its own clock, so skipping two hours turns a warned order into a late one.
 */
describe('fulfilment scan workflow (time-skipping)', () => {
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

  const now = async () => Number(await stack.env.currentTimeMs());
  const ago = (at: number, hours: number) => new Date(at - hours * HOUR).toISOString();
  let run = 0;
  const scan = () =>
    client.workflow.execute(FULFILMENT_SCAN_WORKFLOW_TYPE, {
      workflowId: `${fulfilmentScanWorkflowId()}:${++run}`,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{}],
    }) as Promise<FulfilmentScanResult>;

  test('warns before the deadline, records the late shipment after it, compensates a silent parcel once', async () => {
    const start = await now();
    await publishAndImport(stack.sandbox.state, stack.db, [
      // Paid 47 h ago: due in an hour, so warned now (the overdue one is past warning).
      order('o-wf-soon', 'm-wf', { paidAt: ago(start, 47) }),
      // Paid 49 h ago, never shipped: its deadline passed an hour ago, beyond the feed's grace.
      order('o-wf-overdue', 'm-wf', { paidAt: ago(start, 49) }),
      // Shipped 80 h ago, no tracking since: silent for more than 72 h.
      order('o-wf-silent', 'm-wf', { paidAt: ago(start, 90), shippedAt: ago(start, 80), trackingNumber: 'SF9', amountFen: 50_000 }),
    ]);

    const first = await scan();
    expect(first.warnings).toEqual({ recorded: 1, sent: 1, refused: 0 });
    expect(first.due).toMatchObject({ due: 2, late: 1 });
    expect(first.exceptions).toEqual({ noTracking: 1, reported: 0 });
    expect(first.compensations).toEqual({ paid: 1, paidFen: 1_500, refused: 0 });
    expect((await stack.db('late_shipments').select('order_id')).map((r) => r.order_id)).toEqual(['o-wf-overdue']);

    // Two hours later (skipped): o-wf-soon's deadline has passed too; nothing is warned or paid again.
    await stack.env.sleep(2 * HOUR);
    const second = await scan();
    expect(Date.parse(second.asOf) - Date.parse(first.asOf)).toBeGreaterThanOrEqual(2 * HOUR);
    expect(second.warnings).toEqual({ recorded: 0, sent: 0, refused: 0 });
    expect(second.due).toMatchObject({ due: 1, late: 1 });
    expect(second.compensations).toEqual({ paid: 0, paidFen: 0, refused: 0 });
    expect((await stack.db('late_shipments').orderBy('order_id').select('order_id')).map((r) => r.order_id)).toEqual(['o-wf-overdue', 'o-wf-soon']);
    expect(stack.sandbox.state.notifications.filter((n) => n.template === 'shipping_deadline_warning')).toHaveLength(1);
    expect(stack.sandbox.state.compensations.map((c) => [c.orderId, c.amountFen])).toEqual([['o-wf-silent', 1_500]]);
  });
});
