import { reassessmentWorkflowId } from '../../workflows/deposit-reassessment.defs';
import { skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const HOUR = 60 * 60 * 1000;
const SHANGHAI_OFFSET = 8 * HOUR;
const pad = (n: number) => String(n).padStart(2, '0');

describe('depositReassessment (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** Failures the next attempts throw (a database away), one entry an attempt. */
  const failures: Error[] = [];
  beforeAll(async () => {
    fast = await startFastEnv({
      reassessShops: async ({ month }: { month: string }) => {
        const failure = failures.shift();
        if (failure) throw failure;
        return { month, shops: 12, changed: 3 };
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = (workflowId: string, month?: string) =>
    fast.client.workflow.start('depositReassessment', { taskQueue: fast.taskQueue, workflowId, args: month ? [{ month }] : [] });
  const callsSince = (before: number) => fast.stubs.inputsOf('reassessShops').slice(before);

  test("a run for a month walks every shop for that month in one activity and ends with the walk's counts", async () => {
    const before = fast.stubs.calls.length;
    const handle = await start(reassessmentWorkflowId('2026-09'), '2026-09');
    expect(await handle.result()).toEqual({ month: '2026-09', shops: 12, changed: 3 });
    expect(callsSince(before)).toEqual([{ month: '2026-09' }]);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('COMPLETED');
  });

  test('a passing failure is retried until the walk finishes', async () => {
    const before = fast.stubs.calls.length;
    failures.push(new Error('database connection lost'), new Error('database connection lost'));
    const handle = await start(reassessmentWorkflowId('2026-08'), '2026-08');
    expect(await skipToResult(fast, handle)).toEqual({ month: '2026-08', shops: 12, changed: 3 });
    expect(callsSince(before)).toEqual([{ month: '2026-08' }, { month: '2026-08' }, { month: '2026-08' }]);
  });

  test('a run without a month, as the schedule starts it at 03:00 Shanghai on the 1st, takes the Shanghai month just ended', async () => {
    // The next 1st at 03:00 Shanghai: still the last day of the month before in UTC.
    const shanghaiNow = new Date((await fast.now()) + SHANGHAI_OFFSET);
    const [year, month] = [shanghaiNow.getUTCFullYear(), shanghaiNow.getUTCMonth()];
    const fires = Date.UTC(year, month + 1, 1, 3) - SHANGHAI_OFFSET;
    await fast.env.sleep(fires - (await fast.now()));

    const before = fast.stubs.calls.length;
    const handle = await start('deposit-reassessment');
    const ended = `${year}-${pad(month + 1)}`;
    expect(await handle.result()).toEqual({ month: ended, shops: 12, changed: 3 });
    expect(callsSince(before)).toEqual([{ month: ended }]);
  });
});
