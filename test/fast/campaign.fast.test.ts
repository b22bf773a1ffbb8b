import { WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { campaignSummary, pacingFor, type CampaignKind } from '../../domain/campaigns';
import { ErrorType } from '../../domain/errors';
import {
  cancelCampaignUpdate,
  campaignStatusQuery,
  campaignWorkflowId,
  PAGES_PER_RUN,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignInput,
  type CampaignPageInput,
  type CampaignPageOutcome,
} from '../../workflows/campaign.defs';
import { skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

type ItemState = 'pending' | 'done' | 'refused';

/**
 * The campaign process's branching over stub pages: an in-memory list stands for the items'
 * rows, a page settles up to its budget of them (the item named refused is refused), and each
 * page records the server's clock when it ran, so the pace is read on the skipped clock.
 */
describe('campaign (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  const lists = new Map<string, { kind: CampaignKind; items: ItemState[]; refuse: Set<number> }>();
  const pageTimes = new Map<string, number[]>();
  const failNext = new Map<string, ApplicationFailure>();
  /** The states each campaign's row was given, in the order the writes landed. */
  const written = new Map<string, string[]>();

  const progressOf = (items: ItemState[]) => {
    const count = (s: ItemState) => items.filter((i) => i === s).length;
    return { total: items.length, done: count('done'), refused: count('refused'), failed: 0, pending: count('pending') };
  };

  beforeAll(async () => {
    fast = await startFastEnv({
      runCampaignPage: async (input: CampaignPageInput): Promise<CampaignPageOutcome> => {
        pageTimes.set(input.campaignId, [...(pageTimes.get(input.campaignId) ?? []), await fast.now()]);
        const failure = failNext.get(input.campaignId);
        failNext.delete(input.campaignId);
        if (failure) throw failure;
        const list = lists.get(input.campaignId)!;
        let calls = 0;
        list.items.forEach((state, i) => {
          if (state !== 'pending' || calls >= input.callsPerPage) return;
          calls += 1;
          list.items[i] = list.refuse.has(i + 1) ? 'refused' : 'done';
        });
        const progress = progressOf(list.items);
        return { calls, stoppedBy: progress.pending === 0 ? 'finished' : 'budget', progress };
      },
      recordCampaignState: async ({ campaignId, state }: { campaignId: string; state: string }) => {
        // A slow write (a database blip, a retry) of one campaign's pause, to race the resume behind it.
        if (campaignId === 'cmp_race' && state === 'paused') await new Promise((r) => setTimeout(r, 1_000));
        written.set(campaignId, [...(written.get(campaignId) ?? []), state]);
      },
      finishCampaign: async ({ campaignId, cancelled }: { campaignId: string; cancelled: boolean }) => {
        if (campaignId === 'cmp_ending') await new Promise((r) => setTimeout(r, 1_000));
        const list = lists.get(campaignId)!;
        const { pending: _pending, ...counts } = progressOf(list.items);
        return campaignSummary(list.kind, counts, cancelled);
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  async function start(campaignId: string, kind: CampaignKind, count: number, ratePerMinute: number, refuse: number[] = []) {
    lists.set(campaignId, { kind, items: Array.from({ length: count }, () => 'pending'), refuse: new Set(refuse) });
    const input: CampaignInput = { campaignId, kind, ratePerMinute };
    return fast.client.workflow.start('campaign', { taskQueue: fast.taskQueue, workflowId: campaignWorkflowId(campaignId), args: [input] });
  }
  const stateInputs = (campaignId: string) => fast.stubs.inputsOf('recordCampaignState').filter((i) => (i as { campaignId: string }).campaignId === campaignId);

  test('paused between pages and resumed: no page while paused, the pace kept on the skipped clock, a refused item in the summary', async () => {
    const id = 'cmp_pause';
    const { callsPerPage, gapMs } = pacingFor(100);
    const handle = await start(id, 'close_shops', 120, 100, [7]);
    // The first page runs at once, then the process waits out the gap (real time on this client).
    const afterFirst = await fast.until(() => handle.query(campaignStatusQuery), (s) => s.progress !== null);
    expect(afterFirst).toMatchObject({ status: 'running', pages: 1, progress: { total: 120, done: 49, refused: 1, pending: 70 } });

    const paused = await handle.executeUpdate(pauseCampaignUpdate, { args: [{ actor: 'ops:olga', reason: 'platform asked us to hold' }] });
    expect(paused).toMatchObject({ status: 'paused', changedBy: 'ops:olga', reason: 'platform asked us to hold' });
    expect(stateInputs(id)).toEqual([{ campaignId: id, state: 'paused', actor: 'ops:olga', reason: 'platform asked us to hold' }]);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'RUNNING', business: 'paused' });
    const twice = await handle.executeUpdate(pauseCampaignUpdate, { args: [{ actor: 'ops:olga' }] }).catch((err: Error) => err);
    expect((twice as Error).cause).toMatchObject({ message: expect.stringMatching(/already paused/) });

    // Past the gap and the timer's firing: still one page, for the process waits for a resume.
    await fast.env.sleep(gapMs);
    await fast.until(async () => (await handle.fetchHistory()).events?.filter((e) => e.timerFiredEventAttributes).length ?? 0, (fired) => fired >= 1);
    expect((await handle.query(campaignStatusQuery)).pages).toBe(1);
    expect(pageTimes.get(id)).toHaveLength(1);

    const resumed = await handle.executeUpdate(resumeCampaignUpdate, { args: [{ actor: 'ops:olga' }] });
    expect(resumed.status).toBe('running');
    const summary = await skipToResult(fast, handle);
    expect(summary).toEqual({ kind: 'close_shops', total: 120, done: 119, refused: 1, failed: 0, notTried: 0, outcome: 'completed' });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'completed' });

    // Three pages of at most 50 calls, each a full gap after the one before (a page takes no time here).
    const times = pageTimes.get(id)!;
    expect(times).toHaveLength(3);
    expect(fast.stubs.inputsOf('runCampaignPage').filter((i) => (i as CampaignPageInput).campaignId === id)).toEqual([1, 2, 3].map((page) => ({ campaignId: id, page, callsPerPage })));
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(gapMs);
  });

  test('a resume right behind a pause whose write is slow: the row ends as the process is, running', async () => {
    const id = 'cmp_race';
    const handle = await start(id, 'close_shops', 120, 1);
    await fast.until(() => handle.query(campaignStatusQuery), (s) => s.progress !== null);
    const pause = await handle.startUpdate(pauseCampaignUpdate, { args: [{ actor: 'ops:olga' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{ actor: 'ops:ivan' }] });
    await pause.result();
    expect((await handle.query(campaignStatusQuery)).status).toBe('running');
    expect(written.get(id)).toEqual(['paused', 'running']);
    await handle.executeUpdate(cancelCampaignUpdate, { args: [{ actor: 'ops:olga' }] });
    await skipToResult(fast, handle);
  });

  test('a pause while the summary is being written is refused: the campaign has ended', async () => {
    const id = 'cmp_ending';
    const handle = await start(id, 'close_shops', 2, 60);
    await fast.until(async () => fast.stubs.inputsOf('finishCampaign').filter((i) => (i as { campaignId: string }).campaignId === id).length, (n) => n > 0);
    const late = await handle.executeUpdate(pauseCampaignUpdate, { args: [{ actor: 'ops:olga' }] }).catch((err: Error) => err);
    expect((late as Error).cause).toMatchObject({ message: expect.stringMatching(/has ended/) });
    expect(await skipToResult(fast, handle)).toMatchObject({ outcome: 'completed' });
    expect(written.get(id)).toBeUndefined();
  });

  test('cancelled while waiting between pages: it ends at once, what was never tried counted as such', async () => {
    const id = 'cmp_cancel';
    const handle = await start(id, 'warn_streamers', 3, 1);
    await fast.until(() => handle.query(campaignStatusQuery), (s) => s.progress !== null);
    const cancelled = await handle.executeUpdate(cancelCampaignUpdate, { args: [{ actor: 'ops:olga' }] });
    expect(cancelled.cancelledBy).toBe('ops:olga');
    const summary = await skipToResult(fast, handle);
    expect(summary).toEqual({ kind: 'warn_streamers', total: 3, done: 1, refused: 0, failed: 0, notTried: 2, outcome: 'cancelled' });
    expect(pageTimes.get(id)).toHaveLength(1);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'cancelled' });
  });

  test(`a list longer than ${PAGES_PER_RUN} pages continues as new, its page numbers and results carried on`, async () => {
    const id = 'cmp_long';
    const count = PAGES_PER_RUN + 5;
    const handle = await start(id, 'close_shops', count, 1, [count]);
    expect(await skipToResult(fast, handle)).toEqual({ kind: 'close_shops', total: count, done: count - 1, refused: 1, failed: 0, notTried: 0, outcome: 'completed' });
    const pagesAsked = fast.stubs.inputsOf('runCampaignPage').filter((i) => (i as CampaignPageInput).campaignId === id).map((i) => (i as CampaignPageInput).page);
    expect(pagesAsked).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    const described = await fast.client.workflow.getHandle(handle.workflowId).describe();
    expect(described.runId).not.toBe(handle.firstExecutionRunId);
  }, 120_000);

  test('our access refused: the process pauses itself for ops; their resume asks for the page again', async () => {
    const id = 'cmp_access';
    failNext.set(id, ApplicationFailure.nonRetryable('the platform refused our access at item 1: 401', ErrorType.PlatformRefusalNeedsOps));
    const handle = await start(id, 'delist_products', 2, 60);
    const paused = await fast.until(() => handle.query(campaignStatusQuery), (s) => s.status === 'paused');
    expect(paused).toMatchObject({ changedBy: 'system', reason: expect.stringContaining('refused our access'), progress: null });
    expect(stateInputs(id)).toEqual([{ campaignId: id, state: 'paused', actor: 'system', reason: expect.stringContaining('401') }]);

    await handle.executeUpdate(resumeCampaignUpdate, { args: [{ actor: 'ops:olga', reason: 'token renewed' }] });
    expect(await skipToResult(fast, handle)).toMatchObject({ done: 2, outcome: 'completed' });
    expect(pageTimes.get(id)).toHaveLength(2);
  });
});
