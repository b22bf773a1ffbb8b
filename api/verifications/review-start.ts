import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { MERCHANT_ID, OVERDUE, PROCESS_TYPE, STATUS } from '../../workflows/search-attributes';
import { conflict, unavailable } from '../errors';

export interface ReviewStart<I> {
  workflowType: string;
  workflowId: string;
  processType: string;
  merchantId: string;
  input: I;
  /** How the 409 names an open case of the same kind: "verification case", "change of entity". */
  openCaseName: string;
  /** Writes the case's rows in the given transaction; the run id ties them to the process. */
  record(trx: Knex.Transaction, runId: string): Promise<void>;
}

/**
 * Starts a reviewed process (a verification, a change of entity) and records its case. One
 * open review per merchant and process: a second start is a 409 naming the open case. The
 * process starts first (its id is the lock), then the rows; a failed write stops the process,
 * so nothing is left half-done, and the database's message (SQL, values) goes to the log
 * through the cause, never to the caller.
 */
export async function startReviewCase<I>(db: Knex, temporal: Client, taskQueue: string, start: ReviewStart<I>): Promise<void> {
  const { workflowId, merchantId } = start;
  let handle;
  try {
    handle = await temporal.workflow.start(start.workflowType, {
      workflowId,
      taskQueue,
      args: [start.input],
      // One open review per merchant; a closed one may be followed by a new one.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: MERCHANT_ID, value: merchantId },
        { key: PROCESS_TYPE, value: start.processType },
        { key: STATUS, value: 'in_review' },
        { key: OVERDUE, value: false },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const open = await createVerificationCaseRepository(db).findOpenCaseOf(merchantId);
      throw conflict(`merchant ${merchantId} already has an open ${start.openCaseName}`, { caseId: open?.id ?? null });
    }
    throw err;
  }
  const runId = handle.firstExecutionRunId;
  try {
    await db.transaction((trx) => start.record(trx, runId));
  } catch (err) {
    await handle.terminate('the case could not be recorded').catch(() => undefined);
    const failure = new Error('the case could not be recorded', { cause: err });
    throw Object.assign(unavailable('the case could not be recorded; retry shortly'), { cause: failure });
  }
}
