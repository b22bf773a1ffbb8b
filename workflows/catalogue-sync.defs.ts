import type { CatalogueSyncKind } from '../domain/catalogue-checks';
import type { ProcessIdentity, ProcessSchedule } from './process';

/** The catalogue sync over every bound store (docs/rules.md §5.3): names, types and ids. */
export const CATALOGUE_SYNC_PROCESS = 'catalogue-sync';
export const CATALOGUE_SYNC_WORKFLOW_TYPE = 'catalogueSync';
export const catalogueSyncScheduleId = (kind: CatalogueSyncKind): string => `catalogue-sync-${kind}`;
/**
 * `catalogue-sync:<kind>:<key>` for a run started by hand; a scheduled run gets
 * `catalogue-sync:<kind>` with the fire time Temporal appends. The run's id in
 * `catalogue_sync_runs` is its workflow id, so a retried or continued run writes to one row.
 */
export const catalogueSyncWorkflowId = (key: string): string => `catalogue-sync:${key}`;

/** Stores one activity syncs before the workflow records the batch and asks for the next. */
export const STORES_PER_BATCH = 20;
/** Products per partner call (the partners allow 1–1,000). */
export const PRODUCTS_PER_PAGE = 1_000;
/** Batches a run handles before it continues as new, so its history stays small however many stores there are. */
export const BATCHES_PER_RUN = 50;
/**
 * Lanes of stores synced side by side (each a share of the stores by a hash of the binding id):
 * the database works on one lane's page while the worker reads and checks the other's.
 */
export const SYNC_LANES = 2;

export interface CatalogueSyncInput {
  kind: CatalogueSyncKind;
  /** `schedule` or the ops user who started the run. */
  startedBy?: string;
  /** Set on continue-as-new: the run's id and start time. */
  runId?: string;
  startedAt?: string;
  /** Set on continue-as-new: where each lane goes on, and which lanes have finished. */
  lanes?: Array<{ afterBindingId: string | null; finished: boolean }>;
  storesPerBatch?: number;
  pageSize?: number;
}

export type StoreSyncStatus = 'synced' | 'skipped' | 'failed';

/** One store's outcome as the workflow sees it: ids and counts only, never a product. */
export interface StoreSyncOutcome {
  bindingId: string;
  status: StoreSyncStatus;
  reason: string | null;
}

export interface StoreBatchInput {
  runId: string;
  kind: CatalogueSyncKind;
  afterBindingId: string | null;
  /** The lane's share of the stores (by a hash of the binding id); all stores when absent. */
  lane?: { index: number; of: number };
  storesPerBatch: number;
  pageSize: number;
}

export interface StoreBatchResult {
  stores: StoreSyncOutcome[];
  /** The last store of the batch; null when no store was left. */
  lastBindingId: string | null;
}

export interface CatalogueSyncResult {
  runId: string;
  kind: CatalogueSyncKind;
  storesDone: number;
  storesSkipped: number;
  storesFailed: number;
  /** Check failures of the run by class. */
  failedByClass: Record<string, number>;
}

const SHANGHAI = 'Asia/Shanghai';

const schedule = (kind: CatalogueSyncKind, cron: string, catchupWindow: ProcessSchedule['catchupWindow'], why: string): ProcessSchedule => ({
  scheduleId: catalogueSyncScheduleId(kind),
  spec: { cronExpressions: [cron], timezone: SHANGHAI },
  workflowId: catalogueSyncWorkflowId(kind),
  catchupWindow,
  input: { kind, startedBy: 'schedule' },
  summary: `catalogue-sync · scheduled ${kind} sync of every bound store (${why})`,
});

/** The process as the registry, the API seam and the replay test know it. */
export const catalogueSyncProcess: ProcessIdentity = {
  workflowType: CATALOGUE_SYNC_WORKFLOW_TYPE,
  processType: CATALOGUE_SYNC_PROCESS,
  workflowId: catalogueSyncWorkflowId,
  replayPrefix: 'catalogue-sync-',
  schedules: [
    // Title, images, price, category, attributes, description at 02:00, 08:00, 14:00, 20:00 [src].
    schedule('base', '0 2,8,14,20 * * *', '1 day', '02:00, 08:00, 14:00, 20:00'),
    // Inventory and pre-sale labels every hour [src]; a missed hour is caught up only if just missed.
    schedule('inventory', '0 * * * *', '5 minutes', 'hourly'),
    // Official promotion tags twice a day [src]; 09:30 and 21:30 [default], off the base runs' hours.
    schedule('promo', '30 9,21 * * *', '1 day', '09:30, 21:30'),
  ],
};
