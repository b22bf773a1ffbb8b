import { continueAsNew, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CatalogueSyncActivities } from '../activities/catalogue-sync';
import type { CatalogueRiskActivities } from '../activities/catalogue-risks';
import { ErrorType } from '../domain/errors';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import {
  BATCHES_PER_RUN,
  SYNC_LANES,
  PRODUCTS_PER_PAGE,
  STORES_PER_BATCH,
  type CatalogueSyncInput,
  type CatalogueSyncResult,
} from './catalogue-sync.defs';

/**
 * Quick bookkeeping: the run's row. Retried for a while on a database outage, then the run fails
 * where ops see it.
 */
const books = proxyActivities<CatalogueSyncActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * A batch of stores, each synced page by page. The activity heartbeats its cursor (store and
 * partner page), so a retried attempt resumes where the last one stopped. A partner outage is
 * retried with a bound: on the last attempt the store is recorded failed and the batch goes on
 * (activities/catalogue-sync.ts, LAST_ATTEMPT), so this policy must stay in step with it.
 */
const stores = proxyActivities<CatalogueSyncActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.DataRejected] },
});

const riskRetry = { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 10 } as const;
const risks = proxyActivities<CatalogueRiskActivities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: riskRetry });
/** A batch's scans, store after store: the batch's sync bound (its heartbeat tells a dead worker apart). */
const riskBatches = proxyActivities<CatalogueRiskActivities>({ startToCloseTimeout: '2 hours', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: riskRetry });

/**
 * A batch's risk scans in one activity, not one each: a thousand stores made a thousand
 * activities that held the worker's slots while the next batch's sync waited for one. Runs
 * from before scanned store by store.
 */
const RISK_SCANS_PER_BATCH = 'risk-scans-per-batch';

/**
 * One catalogue sync run of a kind over every bound store with sync on (docs/rules.md §5.3).
 * History holds one event group per batch of stores and per risk scan, never one per product;
 * a long run continues as new every BATCHES_PER_RUN batches.
 */
export async function catalogueSync(input: CatalogueSyncInput): Promise<CatalogueSyncResult> {
  const runId = input.runId ?? workflowInfo().workflowId;
  const startedAt = input.startedAt ?? new Date().toISOString();
  if (!input.runId) {
    await books.openCatalogueSyncRun({ runId, kind: input.kind, startedBy: input.startedBy ?? 'schedule', workflowId: workflowInfo().workflowId, startedAt });
  }
  const lanes = input.lanes ?? Array.from({ length: SYNC_LANES }, () => ({ afterBindingId: null, finished: false }));
  let batches = 0;
  const timeToContinue = () => batches >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested;
  // Each lane syncs its share of the stores batch after batch; a batch's risk scans run side by
  // side, and beside the lane's next batch: the scans read what the sync wrote, the next batch
  // writes other stores.
  const runLane = async (index: number) => {
    const lane = lanes[index]!;
    let scanning: Promise<unknown> = Promise.resolve();
    while (!lane.finished && !timeToContinue()) {
      const done = await stores.syncCatalogueStores({
        runId,
        kind: input.kind,
        afterBindingId: lane.afterBindingId,
        lane: { index, of: lanes.length },
        storesPerBatch: input.storesPerBatch ?? STORES_PER_BATCH,
        pageSize: input.pageSize ?? PRODUCTS_PER_PAGE,
      });
      batches += 1;
      if (input.kind === 'base') {
        await scanning;
        const synced = done.stores.filter((store) => store.status === 'synced');
        if (patched(RISK_SCANS_PER_BATCH)) {
          if (synced.length > 0) scanning = riskBatches.scanCatalogueRisksOfStores({ bindingIds: synced.map((store) => store.bindingId), syncRunId: runId, asOf: startedAt });
        } else {
          scanning = Promise.all(synced.map((store) => risks.scanCatalogueRisks({ bindingId: store.bindingId, syncRunId: runId, asOf: startedAt })));
        }
      }
      if (done.lastBindingId === null) lane.finished = true;
      else lane.afterBindingId = done.lastBindingId;
    }
    await scanning;
  };
  await Promise.all(lanes.map((_, index) => runLane(index)));
  if (lanes.some((lane) => !lane.finished)) {
    await continueAsNew<typeof catalogueSync>({ ...input, runId, startedAt, lanes });
  }
  return books.finishCatalogueSyncRun({ runId, finishedAt: new Date().toISOString() });
}
