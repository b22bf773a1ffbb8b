import { randomBytes } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { Knex } from 'knex';
import type { PiiVault } from '../../security/pii';
import { createAuditLog } from '../../db/repositories/audit-log';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository, type CaseRow } from '../../db/repositories/verification-cases';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import type { EntityType } from '../../domain/verification';
import { MERCHANT_ID, OVERDUE, PROCESS_TYPE, STATUS } from '../../workflows/search-attributes';
import {
  decideUpdate,
  resubmitUpdate,
  VERIFICATION_PROCESS,
  VERIFICATION_WORKFLOW_TYPE,
  verificationWorkflowId,
  type VerificationInput,
  type VerificationState,
} from '../../workflows/verification.defs';
import { assertMayActFor, PII_READERS, type Principal } from '../auth';
import { badRequest, conflict, notFound, unavailable } from '../errors';
import { resubmissionIssues, type DecisionBody, type ResubmissionBody, type StartVerificationBody } from './schemas';

export interface VerificationServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  vault: PiiVault;
}

const newCaseId = () => `vc_${randomBytes(12).toString('hex')}`;
const actorOf = (p: Principal) => `${p.role}:${p.sub}`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** What the verification routes do, between HTTP and Temporal + the database. */
export function createVerificationService({ db, temporal, taskQueue, vault }: VerificationServiceDeps) {
  const cases = createVerificationCaseRepository(db);
  const merchants = createMerchantRepository(db);
  const submissions = createVerificationSubmissionRepository(db, vault);
  const audit = createAuditLog(db);

  async function load(caseId: string, principal: Principal): Promise<CaseRow> {
    const row = await cases.findCase(caseId);
    if (!row) throw notFound(`verification case ${caseId} does not exist`);
    assertMayActFor(principal, row.merchant_id);
    return row;
  }

  /** Runs an update; a refusal by the workflow (wrong state) is a 409 with its reason. */
  async function update<A>(row: CaseRow, run: () => Promise<A>): Promise<A> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw conflict(err.cause?.message ?? err.message, { status: row.status });
      if (err instanceof WorkflowNotFoundError) throw conflict(`case ${row.id} is closed (${row.status})`, { status: row.status });
      throw err;
    }
  }

  return {
    async start(body: StartVerificationBody, principal: Principal, now = new Date()) {
      assertMayActFor(principal, body.merchantId);
      const caseId = newCaseId();
      const workflowId = verificationWorkflowId(body.merchantId);
      const input: VerificationInput = {
        caseId,
        merchantId: body.merchantId,
        entityType: body.entityType,
        submittedAt: now.toISOString(),
        submittedBy: actorOf(principal),
      };
      let handle;
      try {
        handle = await temporal.workflow.start(VERIFICATION_WORKFLOW_TYPE, {
          workflowId,
          taskQueue,
          args: [input],
          // One open review per merchant; a closed one may be followed by a new one.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [
            { key: MERCHANT_ID, value: body.merchantId },
            { key: PROCESS_TYPE, value: VERIFICATION_PROCESS },
            { key: STATUS, value: 'in_review' },
            { key: OVERDUE, value: false },
          ],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          const open = await cases.findOpenCaseOf(body.merchantId);
          throw conflict(`merchant ${body.merchantId} already has an open verification case`, { caseId: open?.id ?? null });
        }
        throw err;
      }
      try {
        await db.transaction(async (trx) => {
          await merchants.ensureMerchant({ id: body.merchantId, entityType: body.entityType, legalName: body.legalName }, trx);
          await cases.insertCase(
            { id: caseId, merchantId: body.merchantId, workflowId, runId: handle.firstExecutionRunId, entityType: body.entityType, legalName: body.legalName, submittedAt: now },
            trx,
          );
          await submissions.insert(caseId, 1, body, now, trx);
        });
      } catch (err) {
        // Nothing half-done: without its rows the review cannot proceed, so stop it.
        await handle.terminate('the case could not be recorded').catch(() => undefined);
        throw unavailable(`the case could not be recorded: ${(err as Error).message}`);
      }
      return { caseId, workflowId, status: 'in_review' as const };
    },

    /** A reader in PII_READERS sees personal data in clear, and that read is audited first. */
    async view(caseId: string, principal: Principal, requestId = 'no-request') {
      const row = await load(caseId, principal);
      const inClear = PII_READERS.includes(principal.role);
      const [events, subs] = await Promise.all([cases.listEvents(caseId), submissions.list(caseId, inClear)]);
      if (inClear) {
        // Awaited before the answer is built: no read in clear without its row. Which fields,
        // never their values.
        await audit.record({
          requestId,
          actorSub: principal.sub,
          actorRole: principal.role,
          action: 'pii.read',
          target: caseId,
          statusCode: 200,
          outcome: 'succeeded',
          details: { fields: clearFieldsOf(subs) },
        });
      }
      return {
        caseId: row.id,
        merchantId: row.merchant_id,
        workflowId: row.workflow_id,
        entityType: row.entity_type as EntityType,
        legalName: row.legal_name,
        status: row.status,
        submittedAt: new Date(row.submitted_at).toISOString(),
        deadline: iso(row.deadline),
        overdue: row.overdue,
        resubmitBy: iso(row.resubmit_by),
        closedAt: iso(row.closed_at),
        history: events.map((e) => ({ seq: e.seq, type: e.type, actor: e.actor, at: new Date(e.at).toISOString(), details: e.details })),
        submissions: subs.map((s) => ({ ...s, submittedAt: new Date(s.submittedAt).toISOString() })),
      };
    },

    async decide(caseId: string, body: DecisionBody, principal: Principal): Promise<VerificationState> {
      const row = await load(caseId, principal);
      const handle = temporal.workflow.getHandle(row.workflow_id, row.run_id ?? undefined);
      return update(row, () =>
        handle.executeUpdate(decideUpdate, { args: [{ decision: body.decision, reasons: body.reasons, reviewer: actorOf(principal) }] }),
      );
    },

    async resubmit(caseId: string, body: ResubmissionBody, principal: Principal, now = new Date()): Promise<VerificationState> {
      const row = await load(caseId, principal);
      const issues = resubmissionIssues(body, row.entity_type as EntityType, row.legal_name);
      if (issues.length > 0) {
        throw badRequest('the resubmission is invalid', issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      }
      const seq = await submissions.nextSeq(caseId);
      const handle = temporal.workflow.getHandle(row.workflow_id, row.run_id ?? undefined);
      const state = await update(row, () =>
        handle.executeUpdate(resubmitUpdate, {
          args: [{ submissionSeq: seq, submittedAt: now.toISOString(), by: actorOf(principal) }],
        }),
      );
      await submissions.insert(caseId, seq, { ...body, entityType: row.entity_type as EntityType, legalName: row.legal_name }, now);
      return state;
    },
  };
}

export type VerificationService = ReturnType<typeof createVerificationService>;


/** Names of the personal-data fields a view shows in clear, e.g. `submissions[1].idNumber`. */
function clearFieldsOf(
  subs: Array<{ seq: number; idNumber?: string; uscc?: string; legalRepresentative?: { idNumber: string }; bankCard?: { accountNumber: string } }>,
): string[] {
  return subs.flatMap((s) => {
    const at = `submissions[${s.seq}]`;
    const fields: string[] = [];
    if (s.idNumber) fields.push(`${at}.idNumber`);
    if (s.uscc) fields.push(`${at}.uscc`);
    if (s.legalRepresentative?.idNumber) fields.push(`${at}.legalRepresentative.idNumber`);
    if (s.bankCard?.accountNumber) fields.push(`${at}.bankCard.accountNumber`);
    return fields;
  });
}
