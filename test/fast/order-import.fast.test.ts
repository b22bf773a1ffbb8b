import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import { orderImportWorkflowId, type OrderImportInput, type OrderImportResult } from '../../workflows/order-import.defs';
import { skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const COUNTS: OrderImportResult = { pages: 3, events: 2_500, inserted: 1_900, updated: 600, lastSeq: 2_500 };

describe('orderImport (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** What the next attempts do before answering, one entry an attempt; then they answer COUNTS. */
  const attempts: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    fast = await startFastEnv({
      importOrders: async () => {
        await attempts.shift()?.();
        return COUNTS;
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  let runs = 0;
  /** Each run under an id of its own, as a schedule's runs get (order-import:platform plus the fire time). */
  const start = (...args: [OrderImportInput?]) =>
    fast.client.workflow.start('orderImport', { taskQueue: fast.taskQueue, workflowId: `${orderImportWorkflowId()}-${++runs}`, args: args.length ? [args[0]] : [] });
  const callsSince = (before: number) => fast.stubs.inputsOf('importOrders').slice(before);

  test('one activity drains the feed with the page size asked for; its counts are the result', async () => {
    const before = fast.stubs.calls.length;
    const handle = await start({ pageSize: 500 });
    expect(await handle.result()).toEqual(COUNTS);
    expect(callsSince(before)).toEqual([{ pageSize: 500 }]);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('COMPLETED');
  });

  test('a run started without input, as the schedule starts it, leaves the page size to the activity', async () => {
    const before = fast.stubs.calls.length;
    expect(await (await start()).result()).toEqual(COUNTS);
    expect(callsSince(before)).toEqual([{}]);
  });

  test('a lost answer is retried, and the run ends with the counts of the attempt that finished', async () => {
    const before = fast.stubs.calls.length;
    attempts.push(async () => {
      throw new Error('connection reset by the platform');
    });
    const handle = await start({ pageSize: 1_000 });
    expect(await skipToResult<OrderImportResult>(fast, handle)).toEqual(COUNTS);
    expect(callsSince(before)).toEqual([{ pageSize: 1_000 }, { pageSize: 1_000 }]);
  });

  test.each([ErrorType.OrderFeedInvalid, ErrorType.PlatformRejected])('a failure of type %s is not retried: the run fails with it', async (type) => {
    const before = fast.stubs.calls.length;
    attempts.push(async () => {
      throw ApplicationFailure.create({ message: `feed refused (${type})`, type });
    });
    const handle = await start();
    const failed = await handle.result().catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const activity = (failed as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect((activity as ActivityFailure).cause).toMatchObject({ type });
    expect(callsSince(before)).toHaveLength(1);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('FAILED');
  });
});
