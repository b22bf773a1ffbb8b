import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { ProcessAlreadyRunning } from '../../domain/errors';
import { conflict, domainErrorAsHttp } from '../errors';
import { startProcess } from '../process-seam';
import type { ProcessIdentity } from '../../workflows/process';

export interface ReviewStart<I> {
  process: ProcessIdentity;
  workflowId: string;
  merchantId: string;
  caseId: string;
  input: I;
  /** How the 409 names an open case of the same kind: "verification case", "change of entity". */
  openCaseName: string;
  /**
   * Writes the case's rows in the given transaction, before its process starts (no run id yet);
   * or, with `oneStatement`, in exactly one statement on the database (ProcessRecord).
   */
  record(trx: Knex): Promise<void>;
  oneStatement?: boolean;
  /** Takes back what `record` wrote beyond the case itself (a merchant row this request created). */
  undoMore?(db: Knex): Promise<void>;
}

/**
 * Starts a reviewed process (a verification, a change of entity) and records its case, in
 * startProcess's order: the case's rows, the start, then the run id on the case. One open
 * review per merchant and process, and the workflow id is the lock: a second start takes its
 * rows back and is a 409 naming the open case. A start that fails takes them back too; rows
 * that cannot be written are ProcessNotRecorded (a 503 whose database message goes to the log
 * through the cause, never to the caller).
 */
export async function startReviewCase<I>(db: Knex, temporal: Client, taskQueue: string, start: ReviewStart<I>): Promise<void> {
  const { workflowId, merchantId, caseId } = start;
  const cases = createVerificationCaseRepository(db);
  try {
    await startProcess(temporal, {
      process: start.process,
      workflowId,
      taskQueue,
      input: start.input,
      // One open review per merchant; a closed one may be followed by a new one.
      conflictPolicy: 'FAIL',
      reusePolicy: 'ALLOW_DUPLICATE',
      searchAttributes: { merchantId, status: 'in_review', overdue: false },
      about: { merchant: merchantId, case: caseId },
      record: {
        db,
        what: 'the case',
        ...(start.oneStatement ? { writeInOneStatement: (db: Knex) => start.record(db) } : { write: (trx: Knex.Transaction) => start.record(trx) }),
        // The run id ties the case to this run: the workflow id alone reaches a later case's run.
        started: (startedDb, runId) => createVerificationCaseRepository(startedDb).setRunId(caseId, runId),
        async undo(undoDb) {
          await createVerificationCaseRepository(undoDb).deleteUnstartedCase(caseId);
          await start.undoMore?.(undoDb);
        },
      },
    });
  } catch (err) {
    if (err instanceof ProcessAlreadyRunning) {
      const open = await cases.findOpenCaseOf(merchantId);
      throw conflict(`merchant ${merchantId} already has an open ${start.openCaseName}`, { caseId: open?.id ?? null });
    }
    throw domainErrorAsHttp(err) ?? err;
  }
}
