import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ensureSearchAttributes } from '../../worker/search-attributes';
import { closureSignal, DEPOSIT_PROCESS, depositWorkflowId, type DepositAccountInput } from '../../workflows/deposit-account.defs';
import { BUSINESS_STATUS, CUSTOM_SEARCH_ATTRIBUTES, MERCHANT_ID, PROCESS_TYPE } from '../../workflows/search-attributes';
import { eventually } from '../support/fixtures';
import { temporalCliPath, workflowBundle } from '../support/temporal';

// List queries need a real visibility store: the time-skipping server has none. The dev server
// from the temporal CLI starts in a few seconds, in memory. These are the query forms the
// README gives ops, run against processes that ended and ones that did not.
describe('search attributes ops filter on', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `search-attributes-${randomUUID()}`;
  const merchantId = `m-${randomUUID()}`;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
    });
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: { openDepositAccount: async () => ({ requiredFen: 2_000_00, balanceFen: 0, promotionBalanceFen: 0 }) },
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  /** Starts a deposit account the way approval does (workflows/verification.ts). */
  const openDeposit = (shopId: string) =>
    env.client.workflow.start('depositAccount', {
      taskQueue,
      workflowId: depositWorkflowId(shopId),
      args: [{ shopId, merchantId, shopType: 'individual' } satisfies DepositAccountInput],
      typedSearchAttributes: [
        { key: MERCHANT_ID, value: merchantId },
        { key: PROCESS_TYPE, value: DEPOSIT_PROCESS },
        { key: BUSINESS_STATUS, value: 'awaiting_deposit' },
      ],
    });
  const list = async (query: string) => {
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query })) ids.push(wf.workflowId);
    return ids.sort();
  };

  test('the worker registers BusinessStatus, not Status, beside the execution status', async () => {
    const listed = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace ?? 'default' });
    expect(Object.keys(listed.customAttributes)).toEqual(expect.arrayContaining(CUSTOM_SEARCH_ATTRIBUTES.map((k) => k.name)));
    expect(Object.keys(listed.customAttributes)).not.toContain('Status');
  });

  test("BusinessStatus and ExecutionStatus filter together: a closed shop's deposit is found as closed and Completed", async () => {
    const open = await openDeposit(`shop-open-${merchantId}`);
    const closed = await openDeposit(`shop-closed-${merchantId}`);
    await closed.signal(closureSignal, { event: 'started' });
    await closed.signal(closureSignal, { event: 'closed', balanceFen: 0, promotionBalanceFen: 0 });
    await closed.result();

    const mine = `MerchantId='${merchantId}'`;
    await eventually(() => list(mine), (ids) => ids.length === 2, 30_000);
    const finished = `ProcessType='deposit' AND BusinessStatus='closed' AND ExecutionStatus='Completed' AND ${mine}`;
    expect(await eventually(() => list(finished), (ids) => ids.length > 0, 30_000)).toEqual([closed.workflowId]);
    const waiting = `ProcessType='deposit' AND BusinessStatus='awaiting_deposit' AND ExecutionStatus='Running' AND ${mine}`;
    expect(await list(waiting)).toEqual([open.workflowId]);
    // No process is left showing a status it no longer has.
    expect(await list(`BusinessStatus='closing' AND ${mine}`)).toEqual([]);
    // The Boolean attributes take the forms the README gives.
    expect(await list(`Overdue=true AND ${mine}`)).toEqual([]);
    expect(await list(`ProvisionalDeadline=true AND ${mine}`)).toEqual([]);
    await open.terminate('test over');
  });
});
