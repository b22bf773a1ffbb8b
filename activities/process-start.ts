import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { Knex } from 'knex';
import { ErrorType, ProcessAlreadyRunning, ProcessNotRecorded } from '../domain/errors';
import { processSummary, type ProcessFacts, type ProcessIdentity } from '../workflows/process';
import { BUSINESS_STATUS, MERCHANT_ID, OVERDUE, PROCESS_TYPE } from '../workflows/search-attributes';

/*
 * The one way a merchant-ops process starts, for the API and for activities alike (a ban's
 * activity starts a shop closure). It lives in activities/ because it is a side effect both
 * layers may import; api/ re-exports it (api/process-seam.ts). Its refusals are domain errors
 * (domain/errors.ts): the API maps them to HTTP, an activity decides for itself.
 */

/** The rows a process starts from, in their initial state: written in a transaction, or in one statement. */
export type ProcessRecord = RecordInTransaction | RecordInOneStatement;

interface RecordCommon {
  db: Knex;
  /** Names the rows in ProcessNotRecorded: "the case", "the closure". */
  what: string;
  /**
   * Ties the rows to the run once it started (e.g. stores its run id). Its failure does not
   * fail the start: once a run and its rows both exist neither is taken back, so the process's
   * first step must make the same tie itself (the reviews' openCase does).
   */
  started?(db: Knex, runId: string): Promise<void>;
  /** Takes back what `write` wrote (deletes it, or marks it cancelled where a rule says so). */
  undo(db: Knex): Promise<void>;
}

interface RecordInTransaction extends RecordCommon {
  /**
   * Writes the rows; runs in one transaction, so a failed write leaves nothing. It may refuse
   * with a domain error (ClosureAlreadyActive), which passes as it is.
   */
  write(trx: Knex.Transaction): Promise<void>;
}

interface RecordInOneStatement extends RecordCommon {
  /**
   * Writes the rows in exactly one statement (db/one-statement.ts), atomic on its own: no
   * transaction around it, for BEGIN and COMMIT would be two more round trips on every start
   * and protect nothing. Refusals pass as they do from `write`.
   */
  writeInOneStatement(db: Knex): Promise<void>;
}

export interface ProcessStart<A> {
  /** Which process (its workflow type and ProcessType), as its defs declare it. */
  process: ProcessIdentity;
  workflowId: string;
  taskQueue: string;
  input: A;
  /** Every start says what a run still going under its id means (habit 2: a repeat never doubles a process). */
  conflictPolicy: NonNullable<WorkflowStartOptions['workflowIdConflictPolicy']>;
  /** … and whether an id whose run has ended may run again. */
  reusePolicy: NonNullable<WorkflowStartOptions['workflowIdReusePolicy']>;
  /** The search attributes the run starts with; the workflow keeps Status current from there. */
  searchAttributes: { status: string; merchantId?: string; overdue?: boolean };
  /** What the run is about, shown as its one-line summary in the Web UI (processSummary). */
  about: ProcessFacts;
  /**
   * Asked when a run is still going under the id: true when it is only finishing (a closure
   * that answered its cancellation), so the start is tried once more instead of refused.
   */
  finishing?(): Promise<boolean>;
  /** The rows written before the start; absent for a process that writes its own (a settlement run) or whose rows exist. */
  record?: ProcessRecord;
}

export interface StartedProcess {
  workflowId: string;
  runId: string;
}

const DOMAIN_TYPES: ReadonlySet<string> = new Set(Object.values(ErrorType));

/** A refusal raised by the caller's own write (a domain error), not a failure to write. */
function isDomainRefusal(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return err instanceof Error && typeof type === 'string' && DOMAIN_TYPES.has(type);
}

function searchAttributesOf(processType: string, { status, merchantId, overdue }: ProcessStart<unknown>['searchAttributes']): SearchAttributePair[] {
  return [
    ...(merchantId !== undefined ? [{ key: MERCHANT_ID, value: merchantId }] : []),
    { key: PROCESS_TYPE, value: processType },
    { key: BUSINESS_STATUS, value: status },
    ...(overdue !== undefined ? [{ key: OVERDUE, value: overdue }] : []),
  ];
}

/**
 * Whether a start that failed without an answer (a timeout, a dropped connection) got through
 * anyway, so its rows are its run's. Only under USE_EXISTING can that be told: the caller said
 * a run going under the id is the one for these rows (a violation case's own id). Under FAIL
 * a run going may be another request's (one open review per merchant): the rows are taken
 * back, for a row tied to another request's run would send its updates there. A run of ours
 * left without rows fails to find them, in sight in the Web UI, instead of silently.
 */
async function startedAnyway(temporal: Client, start: ProcessStart<unknown>, err: unknown): Promise<boolean> {
  if (err instanceof WorkflowExecutionAlreadyStartedError || start.conflictPolicy !== 'USE_EXISTING') return false;
  try {
    return (await temporal.workflow.getHandle(start.workflowId).describe()).status.name === 'RUNNING';
  } catch {
    // WorkflowNotFoundError: nothing started; anything else: Temporal cannot say, and most
    // likely never took the start.
    return false;
  }
}

/**
 * Starts a process. The order, the same for every process:
 *
 * 1. the record: the process's rows in their initial state, in one transaction (a failure is
 *    ProcessNotRecorded and nothing starts);
 * 2. the start, under the caller's id, conflict and reuse policies and search attributes;
 *    then `record.started` ties the rows to the run (its run id);
 *    (best effort: the run's first step ties them too, so nothing is terminated or undone
 *    once both exist);
 * 3. a start that fails takes the rows back (`record.undo`), so nothing stays half-written,
 *    and rethrows: a run already going under the id (conflict policy FAIL) is
 *    ProcessAlreadyRunning carrying the workflow id, anything else as it came. Only a start
 *    that got through despite its error (startedAnyway, USE_EXISTING only) keeps its rows,
 *    for its run reads them.
 *
 * Record first because the process reads its rows from its first step, and a row that exists
 * before its run never makes an activity wait for it. Where the workflow id is the lock (one
 * open review per merchant), two requests may both write, but only one starts: the other
 * takes its rows back and answers ProcessAlreadyRunning.
 */
export async function startProcess<A>(temporal: Client, start: ProcessStart<A>): Promise<StartedProcess> {
  const { record, workflowId } = start;
  if (record) {
    try {
      await ('write' in record ? record.db.transaction((trx) => record.write(trx)) : record.writeInOneStatement(record.db));
    } catch (err) {
      if (isDomainRefusal(err)) throw err;
      throw new ProcessNotRecorded(record.what, { cause: err });
    }
  }
  const run = () =>
    temporal.workflow.start(start.process.workflowType, {
      workflowId,
      taskQueue: start.taskQueue,
      args: [start.input],
      workflowIdConflictPolicy: start.conflictPolicy,
      workflowIdReusePolicy: start.reusePolicy,
      typedSearchAttributes: searchAttributesOf(start.process.processType, start.searchAttributes),
      staticSummary: processSummary(start.process.processType, start.about),
    });
  let runId: string;
  try {
    const handle = await run().catch(async (err: unknown) => {
      if (err instanceof WorkflowExecutionAlreadyStartedError && start.finishing && (await start.finishing())) return run();
      throw err;
    });
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (record && !(await startedAnyway(temporal, start, err))) await record.undo(record.db);
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ProcessAlreadyRunning(workflowId, { cause: err });
    throw err;
  }
  if (record?.started) {
    // The rows and the run both exist now: taking either back would leave the other behind
    // (a terminated run in the Web UI, or rows whose undo fails like this write did). The tie
    // is made again by the run's first step (ProcessRecord.started), so the start stands.
    await record.started(record.db, runId).catch(() => undefined);
  }
  return { workflowId, runId };
}
