import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { PiiVault } from '../../security/pii';
import { createAuditLog } from '../../db/repositories/audit-log';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository, type CaseRow } from '../../db/repositories/verification-cases';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import { createIdentityKeyRepository } from '../../db/repositories/identity-keys';
import { insertsAsOneStatement } from '../../db/one-statement';
import type { EntityType } from '../../domain/verification';
import { createEntityChangeService } from './entity-change';
import { createIdentityGuard } from './identity-guard';
import { actorOf, newCaseId } from './case-ids';
import { startReviewCase } from './review-start';
import { createVerificationList } from './list';
import {
  decideUpdate,
  resubmitUpdate,
  verificationProcess,
  verificationStateQuery,
  verificationWorkflowId,
  type VerificationInput,
  type VerificationState,
} from '../../workflows/verification.defs';
import { assertMayActFor, mayActFor, PII_READERS, type Principal } from '../auth';
import { badRequest, conflict, notFound } from '../errors';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate, UpdateStillRunning } from '../process-seam';
import { openAttention, type AttentionBody } from '../attention';
import { resolveAttentionUpdate } from '../../workflows/attention.defs';
import { resubmissionIssues, type DecisionBody, type ResubmissionBody, type StartVerificationBody } from './schemas';

export interface VerificationServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  vault: PiiVault;
  /** How long an update may take before the route answers 202 with the case's state. */
  updateWaitMs?: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** What the verification routes do, between HTTP and Temporal + the database. */
export function createVerificationService({ db, temporal, taskQueue, vault, updateWaitMs = DEFAULT_UPDATE_WAIT_MS }: VerificationServiceDeps) {
  const cases = createVerificationCaseRepository(db);
  const merchants = createMerchantRepository(db);
  const submissions = createVerificationSubmissionRepository(db, vault);
  const identityKeys = createIdentityKeyRepository(db);
  const audit = createAuditLog(db);

  const identity = createIdentityGuard(db, vault);

  async function load(caseId: string, principal: Principal): Promise<CaseRow> {
    const row = await cases.findCase(caseId);
    // Another merchant's case is answered as a missing one: case ids cannot be probed.
    if (!row || !mayActFor(principal, row.merchant_id)) throw notFound(`verification case ${caseId} does not exist`);
    return row;
  }

  /** How every update on a case answers a refusal: with the case's stored status; an ended process means a closed case. */
  const refusalsOf = (row: CaseRow) => ({ whenEnded: `case ${row.id} is closed (${row.status})`, refusalExtra: { caseStatus: row.status } });

  return {
    async start(body: StartVerificationBody, principal: Principal, now = new Date()) {
      assertMayActFor(principal, body.merchantId);
      const existing = await merchants.findMerchant(body.merchantId);
      if (existing?.verification_status === 'verified') {
        throw conflict(
          `merchant ${body.merchantId} is already verified; a change of entity is its own review: POST /v1/merchants/${body.merchantId}/entity-change`,
          { reason: 'already_verified' },
        );
      }
      await identity.assertSubmissionFree(body, body.merchantId);
      const caseId = newCaseId();
      const workflowId = verificationWorkflowId(body.merchantId);
      const input: VerificationInput = {
        caseId,
        merchantId: body.merchantId,
        entityType: body.entityType,
        submittedAt: now.toISOString(),
        submittedBy: actorOf(principal),
      };
      await startReviewCase(db, temporal, taskQueue, {
        process: verificationProcess,
        workflowId,
        merchantId: body.merchantId,
        caseId,
        input,
        openCaseName: 'verification case',
        // The merchant, the case and its first submission: one statement, one round trip.
        oneStatement: true,
        record: (one) =>
          insertsAsOneStatement(one, [
            merchants.ensureMerchantInsert({ id: body.merchantId, entityType: body.entityType, legalName: body.legalName }, one),
            cases.caseInsert({ id: caseId, merchantId: body.merchantId, workflowId, entityType: body.entityType, legalName: body.legalName, submittedAt: now }, one),
            submissions.submissionInsert(caseId, 1, body, now, one),
          ]),
        // A merchant first known by this request goes with it, unless another case holds it meanwhile.
        undoMore: existing ? undefined : () => merchants.forgetUnverifiedMerchant(body.merchantId),
      });
      return { caseId, workflowId, status: 'in_review' as const };
    },

    /** A reader in PII_READERS sees personal data in clear, and that read is audited first. */
    async view(caseId: string, principal: Principal, requestId = 'no-request') {
      const row = await load(caseId, principal);
      const inClear = PII_READERS.includes(principal.role);
      const [events, subs, earlier, filed] = await Promise.all([
        cases.listEvents(caseId),
        submissions.list(caseId, inClear),
        cases.listEarlierCasesOf(row),
        inClear ? identityKeys.latestIdentityOf(caseId) : undefined,
      ]);
      // Who else filed or holds the number tells about another merchant: reviewers and admins only.
      const duplicateIdentity = inClear ? (filed ? await identityKeys.duplicatesOf(filed.key, row.merchant_id) : []) : undefined;
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
        kind: row.kind,
        earlierCases: earlier.map((c) => ({
          caseId: c.id,
          kind: c.kind,
          entityType: c.entity_type as EntityType,
          status: c.status,
          submittedAt: new Date(c.submitted_at).toISOString(),
          closedAt: iso(c.closed_at),
        })),
        ...(duplicateIdentity && { duplicateIdentity }),
        entityType: row.entity_type as EntityType,
        legalName: row.legal_name,
        status: row.status,
        submittedAt: new Date(row.submitted_at).toISOString(),
        deadline: iso(row.deadline),
        overdue: row.overdue,
        resubmitBy: iso(row.resubmit_by),
        closedAt: iso(row.closed_at),
        attention: openAttention(events),
        history: events.map((e) => ({ seq: e.seq, type: e.type, actor: e.actor, at: new Date(e.at).toISOString(), details: e.details })),
        submissions: subs.map((s) => ({ ...s, submittedAt: new Date(s.submittedAt).toISOString() })),
      };
    },

    async decide(caseId: string, body: DecisionBody, principal: Principal): Promise<VerificationState> {
      const row = await load(caseId, principal);
      if (body.decision === 'approve') {
        await identity.assertCaseFree(caseId, row.merchant_id);
      }
      const handle = temporal.workflow.getHandle(row.workflow_id, row.run_id ?? undefined);
      return runUpdate(handle, {
        update: decideUpdate,
        args: [{ decision: body.decision, reasons: body.reasons, reviewer: actorOf(principal) }],
        stateQuery: verificationStateQuery,
        waitMs: updateWaitMs,
        what: `the decision on case ${caseId}`,
        ...refusalsOf(row),
      });
    },

    /** Ops answer a case waiting in needs_attention: retry the failed step, or abandon (closes the case). */
    async resolveAttention(caseId: string, body: AttentionBody, principal: Principal) {
      const row = await load(caseId, principal);
      const handle = temporal.workflow.getHandle(row.workflow_id, row.run_id ?? undefined);
      const outcome = await runUpdate(handle, {
        update: resolveAttentionUpdate,
        args: [{ action: body.action, note: body.note, actor: actorOf(principal) }],
        stateQuery: verificationStateQuery,
        waitMs: updateWaitMs,
        what: `ops' answer on case ${caseId}`,
        ...refusalsOf(row),
      });
      const state = await handle.query(verificationStateQuery).catch(() => undefined);
      return { ...outcome, status: state?.status ?? null };
    },

    async resubmit(caseId: string, body: ResubmissionBody, principal: Principal, now = new Date()): Promise<VerificationState> {
      const row = await load(caseId, principal);
      const issues = resubmissionIssues(body, row.entity_type as EntityType, row.legal_name);
      if (issues.length > 0) {
        throw badRequest('the resubmission is invalid', issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      }
      await identity.assertSubmissionFree({ ...body, entityType: row.entity_type as EntityType, legalName: row.legal_name }, row.merchant_id);
      const seq = await submissions.nextSeq(caseId);
      const handle = temporal.workflow.getHandle(row.workflow_id, row.run_id ?? undefined);
      const record = () => submissions.insert(caseId, seq, { ...body, entityType: row.entity_type as EntityType, legalName: row.legal_name }, now);
      let state: VerificationState;
      try {
        state = await runUpdate(handle, {
          update: resubmitUpdate,
          args: [{ submissionSeq: seq, submittedAt: now.toISOString(), by: actorOf(principal) }],
          stateQuery: verificationStateQuery,
          waitMs: updateWaitMs,
          what: `the resubmission of case ${caseId}`,
          ...refusalsOf(row),
        });
      } catch (err) {
        // Accepted but not finished in time: the case has taken the resubmission, so keep it.
        if (err instanceof UpdateStillRunning && err.accepted) await record();
        throw err;
      }
      await record();
      return state;
    },

    ...createEntityChangeService({ db, temporal, taskQueue, vault }),

    /** One page of the reviewers' queue; no personal data in it. */
    list: createVerificationList(db),
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
