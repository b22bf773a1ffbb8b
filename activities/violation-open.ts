import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createShopRepository } from '../db/repositories/shops';
import { createViolationRepository, type ViolationCase } from '../db/repositories/violations';
import { ProcessAlreadyRunning, ProcessNotRecorded, ViolationNotOpened } from '../domain/errors';
import { violationCaseProcess, violationWorkflowId, type ViolationCaseInput } from '../workflows/violation-case.defs';
import { startProcess, type ProcessStart } from './process-start';

export interface ViolationOpenDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
}

/** A case to open, named by its business reference (a ticket, or a finding's deterministic key). */
export interface ViolationOpenRequest extends Omit<ViolationCaseInput, 'caseId'> {
  reference: string;
  /** What "the same request" means under the reference (api/violations/reference.ts, or a finding's hash). */
  fingerprint: string;
}

export interface OpenedCase {
  caseId: string;
  workflowId: string;
  status: ViolationCase['status'];
  reference: string;
  /** The reference had opened this case before: nothing new was opened. */
  replayed: boolean;
}

const newCaseId = () => `vio_${randomBytes(12).toString('hex')}`;

/** A case's process: one per case id, never a second run, whichever request starts it. */
function processOf(input: ViolationCaseInput, workflowId: string, taskQueue: string): ProcessStart<ViolationCaseInput> {
  return {
    process: violationCaseProcess,
    workflowId,
    taskQueue,
    input,
    // A replay racing the first request joins the run it started.
    conflictPolicy: 'USE_EXISTING',
    reusePolicy: 'REJECT_DUPLICATE',
    searchAttributes: { merchantId: input.merchantId, status: 'opening' },
    about: { merchant: input.merchantId, shop: input.shopId, case: input.caseId, note: `${input.type}, level ${input.reportedLevel}` },
  };
}

/**
 * Opens a violation case once per reference: for ops through the API, and for the checks that
 * find violations by themselves (catalogue risks, qualifications), whose references are
 * deterministic so a re-run or a retry never opens a second case. A new reference records the
 * case and starts its process; the same request again answers the case it opened (replayed) and
 * starts its process if the first attempt could not; another request under the reference is
 * refused (ViolationNotOpened). Reading the reference first is only a shortcut: the unique
 * index decides races.
 */
export async function openViolationCase({ db, temporal, taskQueue }: ViolationOpenDeps, request: ViolationOpenRequest, now = new Date()): Promise<OpenedCase> {
  const cases = createViolationRepository(db);
  const { reference, fingerprint, ...rest } = request;

  async function replay(c: ViolationCase): Promise<OpenedCase> {
    if (c.requestFingerprint !== fingerprint) throw new ViolationNotOpened(`reference ${reference} already opened case ${c.id} with a different request`, 'reference_taken', c.id);
    const workflowId = c.workflowId ?? violationWorkflowId(c.id);
    if (c.status === 'opening') {
      // The first attempt may have recorded the case and failed (or not yet got) to start its process.
      const input: ViolationCaseInput = { caseId: c.id, merchantId: c.merchantId, shopId: c.shopId, type: c.type, reportedLevel: c.reportedLevel, evidence: c.evidence, openedBy: c.openedBy };
      // Its row exists: no record to write or take back.
      await startProcess(temporal, processOf(input, workflowId, taskQueue)).catch((err: unknown) => {
        // Its run has already ended: nothing to start.
        if (!(err instanceof ProcessAlreadyRunning)) throw err;
      });
    }
    return { caseId: c.id, workflowId, status: c.status, reference, replayed: true };
  }

  const earlier = await cases.findByReference(reference);
  if (earlier) return replay(earlier);

  const shop = await createShopRepository(db).find(rest.shopId);
  if (!shop) throw new ViolationNotOpened(`shop ${rest.shopId} does not exist`, 'shop_not_found');
  if (shop.merchant_id !== rest.merchantId) throw new ViolationNotOpened(`shop ${rest.shopId} does not belong to merchant ${rest.merchantId}`, 'shop_of_another_merchant');
  if (shop.status === 'closed') throw new ViolationNotOpened(`shop ${rest.shopId} is closed`, 'shop_closed');

  const caseId = newCaseId();
  const workflowId = violationWorkflowId(caseId);
  const input: ViolationCaseInput = { caseId, ...rest };
  try {
    await startProcess(temporal, {
      ...processOf(input, workflowId, taskQueue),
      // The row first: the process reads the case from it.
      record: {
        db,
        what: 'the case',
        async write(trx) {
          const recorded = await createViolationRepository(trx).insert({
            id: caseId,
            merchantId: rest.merchantId,
            shopId: rest.shopId,
            type: rest.type,
            level: rest.reportedLevel,
            evidence: rest.evidence,
            openedBy: rest.openedBy,
            openedAt: now,
            workflowId,
            reference: { reference, fingerprint },
          });
          if (!recorded.opened) throw new Error(`reference ${reference} opened another case meanwhile`);
        },
        // No case stays 'opening' for ever.
        undo: (undoDb) => undoDb('violation_cases').where({ id: caseId, status: 'opening' }).delete(),
      },
    });
  } catch (err) {
    // Another request under the same reference recorded its case first: the unique index decided.
    const raced = err instanceof ProcessNotRecorded ? await cases.findByReference(reference) : undefined;
    if (raced) return replay(raced);
    throw err;
  }
  return { caseId, workflowId, status: 'opening', reference, replayed: false };
}
