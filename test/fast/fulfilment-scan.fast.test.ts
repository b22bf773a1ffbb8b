import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type ActivityFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import { fulfilmentScanWorkflowId, type FulfilmentScanInput, type FulfilmentScanResult } from '../../workflows/fulfilment-scan.defs';
import { skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const DUE = { pages: 2, due: 10, late: 1, shippedSinceLate: 0, correctedLate: 0 };
const WARNINGS = { recorded: 3, sent: 3, refused: 0 };
const EXCEPTIONS = { noTracking: 1, reported: 1 };
const COMPENSATIONS = { paid: 2, paidFen: 1_000, refused: 0 };

describe('fulfilmentScan (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** What the next attempts of recordDueOrders do before answering, one entry an attempt. */
  const attempts: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    fast = await startFastEnv({
      warnMerchants: () => WARNINGS,
      recordDueOrders: async () => {
        await attempts.shift()?.();
        return DUE;
      },
      detectLogisticsExceptions: () => EXCEPTIONS,
      payCompensations: () => COMPENSATIONS,
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  let runs = 0;
  const start = (input: FulfilmentScanInput = {}) =>
    fast.client.workflow.start('fulfilmentScan', { taskQueue: fast.taskQueue, workflowId: `${fulfilmentScanWorkflowId()}-${++runs}`, args: [input] });
  const callsSince = (before: number) => fast.stubs.calls.slice(before);

  test('warns, judges deadlines, finds exceptions, pays: in that order, all at one instant', async () => {
    const before = fast.stubs.calls.length;
    const asOf = '2026-12-06T12:00:00.000Z';
    expect(await (await start({ asOf, pageSize: 500 })).result()).toEqual({ asOf, due: DUE, warnings: WARNINGS, exceptions: EXCEPTIONS, compensations: COMPENSATIONS });
    expect(callsSince(before)).toEqual(
      ['warnMerchants', 'recordDueOrders', 'detectLogisticsExceptions', 'payCompensations'].map((name) => ({ name, input: { asOf, pageSize: 500 } })),
    );
  });

  test('a run started as the schedule starts it judges at its own start time', async () => {
    const before = fast.stubs.calls.length;
    const serverNow = await fast.now();
    const result = await (await start()).result();
    expect(Math.abs(Date.parse(result.asOf) - serverNow)).toBeLessThan(60_000);
    expect(new Set(callsSince(before).map((c) => (c.input as { asOf: string }).asOf))).toEqual(new Set([result.asOf]));
  });

  test('a failed attempt is retried and the scan goes on', async () => {
    const before = fast.stubs.calls.length;
    attempts.push(async () => {
      throw new Error('database connection lost');
    });
    const handle = await start({ asOf: '2026-12-06T12:00:00.000Z' });
    expect((await skipToResult<FulfilmentScanResult>(fast, handle)).due).toEqual(DUE);
    expect(callsSince(before).map((c) => c.name)).toEqual(['warnMerchants', 'recordDueOrders', 'recordDueOrders', 'detectLogisticsExceptions', 'payCompensations']);
  });

  test('data the database refuses for good fails the run instead of retrying it for ever', async () => {
    const before = fast.stubs.calls.length;
    attempts.push(async () => {
      throw ApplicationFailure.create({ message: 'value too long', type: ErrorType.DataRejected });
    });
    const handle = await start({ asOf: '2026-12-06T12:00:00.000Z' });
    const failed = await handle.result().catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(((failed as WorkflowFailedError).cause as ActivityFailure).cause).toMatchObject({ type: ErrorType.DataRejected });
    expect(callsSince(before).map((c) => c.name)).toEqual(['warnMerchants', 'recordDueOrders']);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('FAILED');
  });

  test('a run asked to judge at an instant still to come is refused before any step: its watermarks could never come back', async () => {
    const before = fast.stubs.calls.length;
    const handle = await start({ asOf: new Date((await fast.now()) + 60 * 60_000).toISOString() });
    const failed = await handle.result().catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect((failed as WorkflowFailedError).cause).toMatchObject({ type: ErrorType.DataRejected });
    expect(callsSince(before)).toEqual([]);
  });

  test('an error that never clears ends the run after its attempts, so the schedule (overlaps skipped) is not held for ever', async () => {
    const before = fast.stubs.calls.length;
    for (let i = 0; i < 30; i++) {
      attempts.push(async () => {
        throw new Error('statement timeout');
      });
    }
    const handle = await start({ asOf: '2026-12-06T12:00:00.000Z' });
    const failed = await skipToResult(fast, handle).catch((err: unknown) => err);
    attempts.length = 0;
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('FAILED');
    // Each step resumes from its committed watermark, so the next scheduled run loses nothing.
    expect(callsSince(before).filter((c) => c.name === 'recordDueOrders')).toHaveLength(10);
  });
});
