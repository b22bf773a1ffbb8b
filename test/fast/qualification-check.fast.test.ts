import { shanghaiDate } from '../../domain/calendar';
import { QUALIFICATION_CHECK_PROCESS, type QualificationCheckHandOver, type QualificationCheckResult } from '../../workflows/qualification-check.defs';
import { BUSINESS_STATUS, PROCESS_TYPE } from '../../workflows/search-attributes';
import { startFastEnv, statusesOf, type FastEnv } from './support';

const counts = { checked: 4, expiring: 2, expired: 2, notified: 1, casesOpened: 1, skipped: 0 };

describe('qualificationCheck (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  let release: () => void = () => undefined;
  const hold = () => new Promise<void>((resolve) => (release = resolve));
  let held: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    fast = await startFastEnv({
      checkQualifications: async ({ month }: { month: string }) => {
        await held;
        return { month, checkedOn: `${month}-01`, ...counts };
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const startByHand = (month: string) =>
    fast.client.workflow.start('qualificationCheck', {
      taskQueue: fast.taskQueue,
      workflowId: `qualification-check:${month}`,
      args: [{ month }],
      typedSearchAttributes: [
        { key: PROCESS_TYPE, value: QUALIFICATION_CHECK_PROCESS },
        { key: BUSINESS_STATUS, value: 'running' },
      ],
    });
  // Temporal gives a scheduled run an id of its own (qualification-check-scheduled-<fire time>).
  const startScheduled = () =>
    fast.client.workflow.start('qualificationCheck', {
      taskQueue: fast.taskQueue,
      workflowId: `qualification-check-scheduled-${Date.now()}`,
      args: [{ scheduled: true }],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: QUALIFICATION_CHECK_PROCESS }],
    });

  test('a run by hand checks its month in one activity and ends showing completed', async () => {
    const handle = await startByHand('2026-11');
    expect(await handle.result()).toEqual<QualificationCheckResult>({ month: '2026-11', checkedOn: '2026-11-01', ...counts });
    expect(fast.stubs.inputsOf('checkQualifications').at(-1)).toEqual({ month: '2026-11', workflowId: 'qualification-check:2026-11', asOf: expect.any(String) });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'completed' });
  });

  test('a scheduled run hands its Shanghai month to qualification-check:<month>, the id a run by hand has', async () => {
    const trigger = await startScheduled();
    const result = await trigger.result();
    const month = shanghaiDate(new Date(await fast.now())).slice(0, 7);
    expect(result).toEqual<QualificationCheckHandOver>({ month, workflowId: `qualification-check:${month}`, handedOver: 'started' });
    const check = fast.client.workflow.getHandle(`qualification-check:${month}`);
    expect(await check.result()).toMatchObject({ month, casesOpened: 1 });
    expect(await (await check.describe()).staticSummary()).toBe(`qualification-check · period ${month}`);
  });

  test('a scheduled run while a run by hand checks the month starts nothing more', async () => {
    const month = shanghaiDate(new Date(await fast.now())).slice(0, 7);
    held = hold();
    const before = fast.stubs.inputsOf('checkQualifications').length;
    const byHand = await startByHand(month);
    await fast.until(async () => fast.stubs.inputsOf('checkQualifications'), (c) => c.length === before + 1);
    expect(await (await startScheduled()).result()).toEqual<QualificationCheckHandOver>({ month, workflowId: `qualification-check:${month}`, handedOver: 'already_running' });
    release();
    await byHand.result();
    expect(fast.stubs.inputsOf('checkQualifications').slice(before)).toEqual([{ month, workflowId: `qualification-check:${month}`, asOf: expect.any(String) }]);
  });
});
