import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { CatalogueSyncKind } from '../../domain/catalogue-checks';
import { ErrorType } from '../../domain/errors';
import {
  BATCHES_PER_RUN,
  PRODUCTS_PER_PAGE,
  STORES_PER_BATCH,
  SYNC_LANES,
  catalogueSyncWorkflowId,
  type CatalogueSyncInput,
  type CatalogueSyncResult,
  type StoreBatchInput,
  type StoreBatchResult,
  type StoreSyncOutcome,
} from '../../workflows/catalogue-sync.defs';
import { skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const synced = (bindingId: string): StoreSyncOutcome => ({ bindingId, status: 'synced', reason: null });
const skipped = (bindingId: string): StoreSyncOutcome => ({ bindingId, status: 'skipped', reason: 'needs_reauth' });
const failed = (bindingId: string): StoreSyncOutcome => ({ bindingId, status: 'failed', reason: 'rejected' });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

/** A batch's risk scan: its synced stores, in order. */
interface ScanCall {
  bindingIds: string[];
  syncRunId: string;
  asOf: string;
}

/** One scheduled activity of a run's history: its name, and whether it completed before the workflow's last decision. */
interface Step {
  name: string;
  completed: boolean;
}

describe('catalogueSync lanes, batches and risk scans (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** Per run (its workflow id): each lane's stores in binding-id order, as the batch activity would find them. */
  const storesOf = new Map<string, StoreSyncOutcome[][]>();
  /** Per run: a failure every batch of its first lane throws (the other lane finds no store). */
  const batchFailure = new Map<string, ApplicationFailure>();
  /** Per store: what its risk scan waits for before it answers. */
  const scanHeld = new Map<string, Promise<void>>();
  beforeAll(async () => {
    fast = await startFastEnv({
      openCatalogueSyncRun: async () => undefined,
      syncCatalogueStores: async ({ runId, afterBindingId, lane, storesPerBatch }: StoreBatchInput): Promise<StoreBatchResult> => {
        const failure = batchFailure.get(runId);
        if (failure && lane!.index === 0) throw failure;
        const left = (storesOf.get(runId)?.[lane!.index] ?? []).filter((s) => afterBindingId === null || s.bindingId > afterBindingId);
        const stores = left.slice(0, storesPerBatch);
        return { stores, lastBindingId: stores.at(-1)?.bindingId ?? null };
      },
      scanCatalogueRisksOfStores: async ({ bindingIds }: ScanCall) => {
        await Promise.all(bindingIds.map((bindingId) => scanHeld.get(bindingId)));
        return bindingIds.map((bindingId) => ({ bindingId, summary: { scanned: 10, findings: {}, casesOpened: 0, held: 0, released: 0 } }));
      },
      // The totals are the stores' rows in production; here, the stores the batches handed out.
      finishCatalogueSyncRun: async ({ runId }: { runId: string }): Promise<CatalogueSyncResult> => {
        const all = (storesOf.get(runId) ?? []).flat();
        const count = (status: string) => all.filter((s) => s.status === status).length;
        return { runId, kind: runId.split(':')[1] as CatalogueSyncKind, storesDone: count('synced'), storesSkipped: count('skipped'), storesFailed: count('failed'), failedByClass: {} };
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = (key: string, input: CatalogueSyncInput) =>
    fast.client.workflow.start('catalogueSync', { taskQueue: fast.taskQueue, workflowId: catalogueSyncWorkflowId(key), args: [input] });
  const inputsFor = <T>(name: string, runId: string) => fast.stubs.inputsOf(name).filter((i) => (i as { runId?: string; syncRunId?: string }).runId === runId || (i as { syncRunId?: string }).syncRunId === runId) as T[];
  const batchesOf = (runId: string, lane: number) => inputsFor<StoreBatchInput>('syncCatalogueStores', runId).filter((b) => b.lane?.index === lane);
  const scannedOf = (runId: string) => inputsFor<ScanCall>('scanCatalogueRisksOfStores', runId).flatMap((s) => s.bindingIds).sort();
  /** The activities one run of the workflow scheduled, in order, and whether each has completed. */
  const stepsOf = async (handle: WorkflowHandle, runId?: string): Promise<{ steps: Step[]; decidedSinceLastCompletion: boolean; continued: boolean }> => {
    const events = (await fast.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
    const steps = new Map<number, Step>();
    let decidedSinceLastCompletion = false;
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) steps.set(Number(event.eventId), { name: scheduled.activityType!.name!, completed: false });
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed) {
        steps.get(Number(completed.scheduledEventId))!.completed = true;
        decidedSinceLastCompletion = false;
      }
      if (event.workflowTaskCompletedEventAttributes) decidedSinceLastCompletion = true;
    }
    return { steps: [...steps.values()], decidedSinceLastCompletion, continued: events.some((e) => e.workflowExecutionContinuedAsNewEventAttributes) };
  };

  test('a base run syncs each lane batch by batch and scans the risks of the stores it synced, not those skipped or failed', async () => {
    const runId = catalogueSyncWorkflowId('base:by-hand');
    storesOf.set(runId, [
      [synced('a1'), skipped('a2'), synced('a3')],
      [failed('b1'), synced('b2')],
    ]);
    const handle = await start('base:by-hand', { kind: 'base', startedBy: 'ops:olga', storesPerBatch: 2, pageSize: 100 });
    expect(await handle.result()).toEqual<CatalogueSyncResult>({ runId, kind: 'base', storesDone: 3, storesSkipped: 1, storesFailed: 1, failedByClass: {} });

    const [opened] = inputsFor<{ startedAt: string }>('openCatalogueSyncRun', runId);
    expect(inputsFor('openCatalogueSyncRun', runId)).toEqual([{ runId, kind: 'base', startedBy: 'ops:olga', workflowId: runId, startedAt: expect.any(String) }]);
    // Each lane goes on after the last store of its batch until a batch finds none.
    const batch = (index: number, afterBindingId: string | null): StoreBatchInput => ({ runId, kind: 'base', afterBindingId, lane: { index, of: SYNC_LANES }, storesPerBatch: 2, pageSize: 100 });
    expect(batchesOf(runId, 0)).toEqual([batch(0, null), batch(0, 'a2'), batch(0, 'a3')]);
    expect(batchesOf(runId, 1)).toEqual([batch(1, null), batch(1, 'b2')]);
    expect(scannedOf(runId)).toEqual(['a1', 'a3', 'b2']);
    // One scan activity a batch, over the stores it synced; a batch with none scans nothing.
    expect(inputsFor<ScanCall>('scanCatalogueRisksOfStores', runId).map((s) => s.bindingIds).sort()).toEqual([['a1'], ['a3'], ['b2']]);
    expect(inputsFor<ScanCall>('scanCatalogueRisksOfStores', runId).every((s) => s.asOf === opened.startedAt)).toBe(true);
    expect(inputsFor('finishCatalogueSyncRun', runId)).toEqual([{ runId, finishedAt: expect.any(String) }]);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('COMPLETED');
  });

  test.each<CatalogueSyncKind>(['inventory', 'promo'])('a scheduled %s run syncs every store with the default batch and page sizes and scans no risks', async (kind) => {
    const runId = catalogueSyncWorkflowId(`${kind}:scheduled`);
    storesOf.set(runId, [ids('x', 25).map(synced), ids('y', 3).map(synced)]);
    const handle = await start(`${kind}:scheduled`, { kind });
    expect(await handle.result()).toMatchObject({ runId, kind, storesDone: 28 });
    expect(inputsFor('openCatalogueSyncRun', runId)).toEqual([expect.objectContaining({ startedBy: 'schedule' })]);
    const lane0 = batchesOf(runId, 0);
    expect(lane0.map((b) => b.afterBindingId)).toEqual([null, `x${STORES_PER_BATCH - 1}`, 'x24']);
    expect(lane0.every((b) => b.storesPerBatch === STORES_PER_BATCH && b.pageSize === PRODUCTS_PER_PAGE && b.kind === kind)).toBe(true);
    expect(batchesOf(runId, 1).map((b) => b.afterBindingId)).toEqual([null, 'y02']);
    expect(scannedOf(runId)).toEqual([]);
    expect(inputsFor('finishCatalogueSyncRun', runId)).toHaveLength(1);
  });

  test(`a long run continues as new after ${BATCHES_PER_RUN} batches: each lane goes on where it stopped, one run row, one start time for the scans`, async () => {
    const runId = catalogueSyncWorkflowId('base:long');
    const lanes = [ids('l', 40), ids('m', 40)];
    storesOf.set(runId, lanes.map((lane) => lane.map(synced)));
    const handle = await start('base:long', { kind: 'base', startedBy: 'ops:olga', storesPerBatch: 1 });
    expect(await handle.result()).toMatchObject({ runId, kind: 'base', storesDone: 80 });

    const first = await stepsOf(handle, handle.firstExecutionRunId);
    expect(first.continued).toBe(true);
    // Nothing the first run started is left behind: its last batches' scans finished before it continued.
    expect(first.steps.filter((s) => !s.completed)).toEqual([]);
    const firstBatches = first.steps.filter((s) => s.name === 'syncCatalogueStores').length;
    expect(firstBatches).toBeGreaterThanOrEqual(BATCHES_PER_RUN);
    expect(firstBatches).toBeLessThanOrEqual(BATCHES_PER_RUN + SYNC_LANES - 1);
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);

    // Every batch once, in order, across both runs: the lanes' cursors were carried.
    lanes.forEach((lane, index) => expect(batchesOf(runId, index).map((b) => b.afterBindingId)).toEqual([null, ...lane]));
    expect(batchesOf(runId, 0).every((b) => b.storesPerBatch === 1)).toBe(true);
    expect(inputsFor('openCatalogueSyncRun', runId)).toHaveLength(1);
    const [{ startedAt }] = inputsFor<{ startedAt: string }>('openCatalogueSyncRun', runId);
    expect(scannedOf(runId)).toEqual(lanes.flat().sort());
    expect(inputsFor<ScanCall>('scanCatalogueRisksOfStores', runId).every((s) => s.asOf === startedAt)).toBe(true);
    expect(inputsFor('finishCatalogueSyncRun', runId)).toEqual([{ runId, finishedAt: expect.any(String) }]);
  });

  test("a batch's scans run beside the lane's next batch, never beyond it, and the run finishes only once every scan has", async () => {
    const runId = catalogueSyncWorkflowId('base:held');
    storesOf.set(runId, [[synced('h1'), synced('h2')], []]);
    const release = new Map<string, () => void>();
    for (const bindingId of ['h1', 'h2']) scanHeld.set(bindingId, new Promise<void>((resolve) => release.set(bindingId, resolve)));
    const handle = await start('base:held', { kind: 'base', storesPerBatch: 1 });
    /** Once the workflow has taken the answers of this many batches, and decided what comes next. */
    const decidedAfter = (batches: number) =>
      fast.until(
        () => stepsOf(handle),
        ({ steps, decidedSinceLastCompletion }) => steps.filter((s) => s.name === 'syncCatalogueStores' && s.completed).length === batches && decidedSinceLastCompletion,
      );
    const namesOf = (steps: Step[]) => steps.map((s) => s.name);
    const scansDone = (steps: Step[]) => steps.filter((s) => s.name === 'scanCatalogueRisksOfStores').map((s) => s.completed);

    // Each lane's first batch; lane 0's second runs while the first batch's scan waits, its third does not.
    const first = await decidedAfter(3);
    expect(namesOf(first.steps)).toEqual(['openCatalogueSyncRun', 'syncCatalogueStores', 'syncCatalogueStores', 'scanCatalogueRisksOfStores', 'syncCatalogueStores']);
    expect(scansDone(first.steps)).toEqual([false]);

    release.get('h1')!();
    // The third batch finds no store; the run does not finish while the second batch's scan waits.
    const second = await decidedAfter(4);
    expect(namesOf(second.steps)).toEqual([...namesOf(first.steps), 'scanCatalogueRisksOfStores', 'syncCatalogueStores']);
    expect(scansDone(second.steps)).toEqual([true, false]);

    release.get('h2')!();
    expect(await handle.result()).toMatchObject({ runId, storesDone: 2 });
    const { steps } = await stepsOf(handle);
    expect(namesOf(steps)).toEqual([...namesOf(second.steps), 'finishCatalogueSyncRun']);
    expect(batchesOf(runId, 0).map((b) => b.afterBindingId)).toEqual([null, 'h1', 'h2']);
    expect(scannedOf(runId)).toEqual(['h1', 'h2']);
  });

  test('a batch that keeps failing is tried five times, then the run fails where ops see it, unfinished', async () => {
    const runId = catalogueSyncWorkflowId('inventory:outage');
    batchFailure.set(runId, ApplicationFailure.retryable('database connection lost'));
    const handle = await start('inventory:outage', { kind: 'inventory' });
    const failure = await skipToResult(fast, handle).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(ActivityFailure);
    expect(batchesOf(runId, 0)).toHaveLength(5);
    expect(inputsFor('finishCatalogueSyncRun', runId)).toHaveLength(0);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('FAILED');
  });

  test('a batch the database refuses for good is not retried: the run fails at once', async () => {
    const runId = catalogueSyncWorkflowId('base:refused');
    batchFailure.set(runId, ApplicationFailure.nonRetryable('syncCatalogueStores failed for good: the database refused a value (SQLSTATE 23514)', ErrorType.DataRejected));
    const handle = await start('base:refused', { kind: 'base' });
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as ActivityFailure).cause).toMatchObject({ type: ErrorType.DataRejected });
    expect(batchesOf(runId, 0)).toHaveLength(1);
    expect(inputsFor('scanCatalogueRisksOfStores', runId)).toHaveLength(0);
    expect(inputsFor('finishCatalogueSyncRun', runId)).toHaveLength(0);
  });
});
