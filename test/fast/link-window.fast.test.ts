import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { shanghaiDate } from '../../domain/calendar';
import { ErrorType } from '../../domain/errors';
import { resolveAttentionUpdate } from '../../workflows/attention.defs';
import { closingInstant, openingInstant } from '../../domain/link-windows';
import { cancelWindowUpdate, changeWindowUpdate, linksListedSignal, linkWindowStateQuery, type LinkWindowInput, type LinkWindowState, type WindowPlan } from '../../workflows/link-window.defs';
import { DAY, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const dateIn = (nowMs: number, days: number) => shanghaiDate(new Date(nowMs + days * DAY));

describe('linkWindow branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  // Each window's links: a take-down pass takes 200 at most and reports the rest.
  const live = new Map<string, number>();
  const down = new Map<string, number>();
  // Windows whose next take-down the database refuses for good (once).
  const refusedOnce = new Set<string>();
  const totals = (windowId: string) => ({ live: live.get(windowId) ?? 0, published: (live.get(windowId) ?? 0) + (down.get(windowId) ?? 0), takenDown: down.get(windowId) ?? 0, publishFailed: 0, takeDownFailed: 0, toPublish: 0 });
  beforeAll(async () => {
    fast = await startFastEnv({
      recordWindowStatus: async () => undefined,
      recordVersionApplied: async () => undefined,
      publishWindowLinks: async ({ windowId }: { windowId: string }) => {
        live.set(windowId, (live.get(windowId) ?? 0) + 250);
        return { calls: 2, remaining: 0, totals: totals(windowId) };
      },
      takeDownWindowLinks: async ({ windowId }: { windowId: string }) => {
        if (refusedOnce.delete(windowId)) throw ApplicationFailure.nonRetryable('takeDownWindowLinks failed for good: the database refused a value its checks refuse (SQLSTATE 23514)', ErrorType.DataRejected);
        const left = live.get(windowId) ?? 0;
        const done = Math.min(left, 200);
        live.set(windowId, left - done);
        down.set(windowId, (down.get(windowId) ?? 0) + done);
        return { calls: done > 0 ? 1 : 0, remaining: left - done, totals: totals(windowId) };
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = async (windowId: string, plan: Omit<WindowPlan, 'version'>) => {
    const input: LinkWindowInput = { windowId, partner: 'jd', linkKind: 'self_operated', plan: { version: 1, ...plan } };
    return fast.client.workflow.start('linkWindow', { taskQueue: fast.taskQueue, workflowId: `link-window:${windowId}`, args: [input] });
  };
  const callsOf = (name: string, windowId: string) => fast.stubs.inputsOf(name).filter((i) => (i as { windowId: string }).windowId === windowId);
  const statusesRecorded = (windowId: string) => callsOf('recordWindowStatus', windowId).map((i) => (i as { status: string }).status);
  const sleepUntil = async (instant: Date, offsetMs: number) => fast.env.sleep(instant.getTime() + offsetMs - (await fast.now()));

  test('opens on its first day, publishes, and takes every link down in passes on the day after its last', async () => {
    const now = await fast.now();
    const plan = { opensOn: dateIn(now, 2), closesOn: dateIn(now, 5), phases: [] };
    const handle = await start('lw-dates', plan);
    await sleepUntil(openingInstant(plan), -60_000);
    expect(callsOf('publishWindowLinks', 'lw-dates')).toHaveLength(0);
    expect((await handle.query(linkWindowStateQuery)).status).toBe('scheduled');

    await sleepUntil(openingInstant(plan), 60_000);
    const opened = await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.progress.published === 250);
    expect(opened.status).toBe('open');
    expect(callsOf('publishWindowLinks', 'lw-dates')).toEqual([{ windowId: 'lw-dates', partner: 'jd', linkKind: 'self_operated', version: 1 }]);

    await sleepUntil(closingInstant(plan)!, -60_000);
    expect(callsOf('takeDownWindowLinks', 'lw-dates')).toHaveLength(0);
    const final = await skipToResult<LinkWindowState>(fast, handle);
    expect(final.status).toBe('closed');
    expect(final.progress).toEqual({ published: 250, publishFailed: 0, takenDown: 250, takeDownFailed: 0, remaining: 0 });
    expect(callsOf('takeDownWindowLinks', 'lw-dates')).toHaveLength(2);
    expect(statusesRecorded('lw-dates')).toEqual(['open', 'closing', 'closed']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'closed' });
  });

  test('links listed while open are published as they come', async () => {
    const now = await fast.now();
    const plan = { opensOn: dateIn(now, 0), closesOn: dateIn(now, 3), phases: [] };
    const handle = await start('lw-listed', plan);
    await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.progress.published === 250);
    await handle.signal(linksListedSignal);
    await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.progress.published === 500);
    const final = await skipToResult<LinkWindowState>(fast, handle);
    expect(final.progress.takenDown).toBe(500);
  });

  test('a window changed while open re-plans its end', async () => {
    const now = await fast.now();
    const plan = { opensOn: dateIn(now, 0), closesOn: dateIn(now, 2), phases: [] };
    const handle = await start('lw-longer', plan);
    await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.status === 'open');
    const refused = await handle.executeUpdate(changeWindowUpdate, { args: [{ version: 2, ...plan, opensOn: dateIn(now, 1) }] }).catch((err: Error) => err);
    expect((refused as Error).cause).toMatchObject({ message: expect.stringMatching(/opening cannot change/) });

    const longer = { ...plan, closesOn: dateIn(now, 10) };
    expect((await handle.executeUpdate(changeWindowUpdate, { args: [{ version: 2, ...longer }] })).plan.version).toBe(2);
    await sleepUntil(closingInstant(plan)!, 60_000);
    expect(callsOf('takeDownWindowLinks', 'lw-longer')).toHaveLength(0);
    expect((await handle.query(linkWindowStateQuery)).status).toBe('open');
    await sleepUntil(closingInstant(longer)!, -60_000);
    expect(callsOf('takeDownWindowLinks', 'lw-longer')).toHaveLength(0);
    const final = await skipToResult<LinkWindowState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', plan: { version: 2, closesOn: longer.closesOn } });

    const late = await handle.executeUpdate(changeWindowUpdate, { args: [{ version: 3, ...longer }] }).catch((err: Error) => err);
    expect(late).toBeInstanceOf(Error);
  });

  test('a window moved before it opens opens on its new date', async () => {
    const now = await fast.now();
    const plan = { opensOn: dateIn(now, 2), closesOn: dateIn(now, 4), phases: [] };
    const handle = await start('lw-moved', plan);
    const later = { opensOn: dateIn(now, 6), closesOn: dateIn(now, 8), phases: [] };
    await handle.executeUpdate(changeWindowUpdate, { args: [{ version: 2, ...later }] });
    await sleepUntil(openingInstant(plan), 60_000);
    expect(callsOf('publishWindowLinks', 'lw-moved')).toHaveLength(0);
    await sleepUntil(openingInstant(later), 60_000);
    await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.status === 'open');
    expect(callsOf('publishWindowLinks', 'lw-moved')).toEqual([expect.objectContaining({ version: 2 })]);
    await skipToResult<LinkWindowState>(fast, handle);
  });

  test('cancelled before it opens, it ends without publishing anything', async () => {
    const now = await fast.now();
    const handle = await start('lw-cancelled', { opensOn: dateIn(now, 3), closesOn: dateIn(now, 5), phases: [] });
    const answered = await handle.executeUpdate(cancelWindowUpdate, { args: [{ actor: 'ops:olga' }] });
    expect(answered.cancelledBy).toBe('ops:olga');
    const final = await skipToResult<LinkWindowState>(fast, handle);
    expect(final.status).toBe('cancelled');
    expect(callsOf('publishWindowLinks', 'lw-cancelled')).toHaveLength(0);
    expect(callsOf('takeDownWindowLinks', 'lw-cancelled')).toHaveLength(0);
    expect(statusesRecorded('lw-cancelled')).toEqual(['cancelled']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'cancelled' });
  });

  test('cancelled while open, it closes at once and takes its links down', async () => {
    const now = await fast.now();
    const handle = await start('lw-cut', { opensOn: dateIn(now, 0), closesOn: null, phases: [] });
    await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.progress.published === 250);
    await handle.executeUpdate(cancelWindowUpdate, { args: [{ actor: 'ops:olga' }] });
    const final = await skipToResult<LinkWindowState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', cancelledBy: 'ops:olga', progress: { takenDown: 250, remaining: 0 } });
  });

  test('a cancel accepted while it records its opening publishes nothing', async () => {
    const now = await fast.now();
    const started: { handle?: WorkflowHandle } = {};
    fast.stubs.answer('recordWindowStatus', async ({ windowId, status }: { windowId: string; status: string }) => {
      // The cancel arrives at the opening, while the process records it open: accepted before any publish.
      if (windowId === 'lw-cancel-at-opening' && status === 'open') await started.handle!.startUpdate(cancelWindowUpdate, { args: [{ actor: 'ops:olga' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    });
    const opening = (started.handle = await start('lw-cancel-at-opening', { opensOn: dateIn(now, 0), closesOn: dateIn(now, 3), phases: [] }));
    const final = await skipToResult<LinkWindowState>(fast, opening);
    fast.stubs.answer('recordWindowStatus', async () => undefined);
    expect(final).toMatchObject({ status: 'closed', cancelledBy: 'ops:olga' });
    expect(callsOf('publishWindowLinks', 'lw-cancel-at-opening')).toEqual([]);
    expect(statusesRecorded('lw-cancel-at-opening')).toEqual(['open', 'closing', 'closed']);
  });

  test('a take-down the database refuses for good waits in needs_attention until ops retry it', async () => {
    const now = await fast.now();
    refusedOnce.add('lw-attention');
    const handle = await start('lw-attention', { opensOn: dateIn(now, 0), closesOn: dateIn(now, 1), phases: [] });
    await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.progress.published === 250);
    await fast.env.sleep(2 * DAY);
    const waiting = await fast.until(() => handle.query(linkWindowStateQuery), (s) => s.attention !== null);
    expect(waiting).toMatchObject({ status: 'closing', attention: { step: 'takeDownWindowLinks', errorType: 'DataRejected' } });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'RUNNING', business: 'needs_attention' });
    const abandoned = await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'abandon', actor: 'ops:olga' }] }).catch((err: Error) => err);
    expect((abandoned as Error).cause).toMatchObject({ message: expect.stringMatching(/cannot be abandoned/) });
    await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'ops:olga' }] });
    const final = await skipToResult<LinkWindowState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', attention: null, progress: { takenDown: 250, remaining: 0 } });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'closed' });
  });
});
