import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { rootCause } from '@temporalio/common';
import type { Knex } from 'knex';
import { createViolationRepository, type ViolationCase, type ViolationEvent } from '../../db/repositories/violations';
import { checkAppealReviewer } from '../../domain/violations';
import { MERCHANT_ID, PROCESS_TYPE, STATUS } from '../../workflows/search-attributes';
import {
  appealUpdate,
  decideAppealUpdate,
  VIOLATION_PROCESS,
  VIOLATION_WORKFLOW_TYPE,
  violationStateQuery,
  violationWorkflowId,
  type ViolationCaseInput,
  type ViolationCaseState,
} from '../../workflows/violation-case.defs';
import { mayActFor, merchantNotFound, type Principal } from '../auth';
import { conflict, forbidden, notFound } from '../errors';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate } from '../workflow-updates';
import { openAttention, type AttentionBody } from '../attention';
import { resolveAttentionUpdate, type AttentionOutcome } from '../../workflows/attention.defs';
import type { AppealBody, AppealDecisionBody, OpenViolationBody } from './schemas';

export interface ViolationServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  /** How long an update may take before the route answers 202 with the case's state. */
  updateWaitMs?: number;
}

const newCaseId = () => `vio_${randomBytes(12).toString('hex')}`;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/** The case as the routes show it; `state`, when given, is the process's answer to an update. */
function caseView(c: ViolationCase, state?: ViolationCaseState) {
  const decided = state?.decision;
  return {
    caseId: c.id,
    merchantId: c.merchantId,
    shopId: c.shopId,
    type: c.type,
    reportedLevel: c.reportedLevel,
    level: decided?.level ?? c.level,
    escalatedBecause: decided ? decided.escalatedBecause : c.escalatedBecause,
    status: state?.status ?? c.status,
    points: decided?.penalty.points ?? c.points,
    penalty: decided?.penalty ?? c.penalty,
    fineDeductedFen: c.fineDeductedFen,
    appealDeadline: iso(decided ? decided.appealDeadline : c.appealDeadline),
    effectEndsAt: iso(decided ? decided.effectEndsAt : c.effectEndsAt),
    appeal: state ? state.appeal : c.appeal,
    openedBy: c.openedBy,
    openedAt: new Date(c.openedAt).toISOString(),
    closedAt: iso(c.closedAt),
    evidence: c.evidence,
  };
}

const historyView = (events: ViolationEvent[]) =>
  events.map((e) => ({ type: e.type, actor: e.actor, at: new Date(e.at).toISOString(), details: e.details }));

/**
 * The case with its history. A step waiting for ops shows as `needs_attention` here (and in
 * the Web UI's Status) while the stored status stays what counts for the shop's record.
 */
function withEvents(view: ReturnType<typeof caseView>, events: ViolationEvent[]) {
  const attention = openAttention(events);
  return { ...view, status: attention ? ('needs_attention' as const) : view.status, attention, history: historyView(events) };
}

/** Violation cases between HTTP and their violationCase processes; reads come from the database the process writes. */
export function createViolationService({ db, temporal, taskQueue, updateWaitMs = DEFAULT_UPDATE_WAIT_MS }: ViolationServiceDeps) {
  const cases = createViolationRepository(db);

  async function load(caseId: string, principal: Principal): Promise<ViolationCase> {
    const found = await cases.find(caseId);
    // Another merchant's case is answered as a missing one: case ids cannot be probed.
    if (!found || !mayActFor(principal, found.merchantId)) throw notFound(`violation case ${caseId} does not exist`);
    return found;
  }

  /** An update the process refused (its validator: too late, already appealed, nothing to decide) is a 409 with its reason. */
  async function update(c: ViolationCase, run: () => Promise<ViolationCaseState>) {
    let state: ViolationCaseState;
    try {
      state = await run();
    } catch (err) {
      // The client's error only says "Workflow Update failed"; the refusal is in its cause chain.
      if (err instanceof WorkflowUpdateFailedError) throw conflict(rootCause(err.cause) ?? err.message, { status: c.status });
      // A reversed or expired case's process has ended, and so has a permanent ban's.
      if (err instanceof WorkflowNotFoundError) {
        const reason = c.status === 'permanent' ? 'an especially serious violation cannot be appealed' : `violation case ${c.id} is ${c.status}: its process has ended`;
        throw conflict(reason, { status: c.status });
      }
      throw err;
    }
    return withEvents(caseView(c, state), await cases.events(c.id));
  }

  const handleOf = (c: ViolationCase) => temporal.workflow.getHandle(c.workflowId ?? violationWorkflowId(c.id));

  /** Removes a case whose process never started, so no case stays 'opening' for ever. */
  async function forgetUnstarted(caseId: string, workflowId: string): Promise<void> {
    try {
      await temporal.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) await db('violation_cases').where({ id: caseId, status: 'opening' }).delete();
    }
  }

  return {
    async open(body: OpenViolationBody, principal: Principal, now = new Date()) {
      const shop = await db('shops').where({ id: body.shopId }).first<{ id: string; merchant_id: string; status: string } | undefined>();
      if (!shop) throw notFound(`shop ${body.shopId} does not exist`);
      if (shop.merchant_id !== body.merchantId) throw conflict(`shop ${body.shopId} does not belong to merchant ${body.merchantId}`);
      if (shop.status === 'closed') throw conflict(`shop ${body.shopId} is closed`);

      const caseId = newCaseId();
      const workflowId = violationWorkflowId(caseId);
      // The row first: the process reads the case from it.
      await cases.insert({
        id: caseId,
        merchantId: body.merchantId,
        shopId: body.shopId,
        type: body.type,
        level: body.level,
        evidence: body.evidence,
        openedBy: principal.sub,
        openedAt: now,
        workflowId,
      });
      const input: ViolationCaseInput = {
        caseId,
        merchantId: body.merchantId,
        shopId: body.shopId,
        type: body.type,
        reportedLevel: body.level,
        evidence: body.evidence,
        openedBy: principal.sub,
      };
      try {
        await temporal.workflow.start(VIOLATION_WORKFLOW_TYPE, {
          workflowId,
          taskQueue,
          args: [input],
          // A case id is new on every request: its process runs once, never twice.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: MERCHANT_ID, value: body.merchantId },
            { key: PROCESS_TYPE, value: VIOLATION_PROCESS },
            { key: STATUS, value: 'opening' },
          ],
        });
      } catch (err) {
        await forgetUnstarted(caseId, workflowId);
        throw err;
      }
      return { caseId, workflowId, status: 'opening' as const };
    },

    async appeal(caseId: string, body: AppealBody, principal: Principal) {
      const c = await load(caseId, principal);
      return update(c, () =>
        runUpdate(handleOf(c), {
          update: appealUpdate,
          args: [{ statement: body.statement, actor: principal.sub }],
          stateQuery: violationStateQuery,
          waitMs: updateWaitMs,
          what: `the appeal of case ${caseId}`,
        }),
      );
    },

    async decideAppeal(caseId: string, body: AppealDecisionBody, principal: Principal) {
      const c = await load(caseId, principal);
      const reviewer = checkAppealReviewer(c.openedBy, principal.sub);
      if (!reviewer.accepted) throw forbidden(reviewer.reason);
      return update(c, () =>
        runUpdate(handleOf(c), {
          update: decideAppealUpdate,
          args: [{ decision: body.decision, reasons: body.reasons, reviewer: principal.sub }],
          stateQuery: violationStateQuery,
          waitMs: updateWaitMs,
          what: `the appeal decision on case ${caseId}`,
        }),
      );
    },

    /** Ops answer a case waiting in needs_attention: retry the failed step, or abandon it (an appeal or its decision is dropped). */
    async resolveAttention(caseId: string, body: AttentionBody, principal: Principal) {
      const c = await load(caseId, principal);
      let outcome: AttentionOutcome;
      try {
        outcome = await runUpdate(handleOf(c), {
          update: resolveAttentionUpdate,
          args: [{ action: body.action, note: body.note, actor: principal.sub }],
          stateQuery: violationStateQuery,
          waitMs: updateWaitMs,
          what: `ops' answer on case ${caseId}`,
        });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw conflict(rootCause(err.cause) ?? err.message, { status: c.status });
        if (err instanceof WorkflowNotFoundError) throw conflict(`violation case ${c.id} is ${c.status}: its process has ended`, { status: c.status });
        throw err;
      }
      const state = await handleOf(c).query(violationStateQuery).catch(() => undefined);
      return { ...outcome, status: state?.status ?? null };
    },

    async view(caseId: string, principal: Principal) {
      const c = await load(caseId, principal);
      return withEvents(caseView(c), await cases.events(c.id));
    },

    async listOf(merchantId: string, principal: Principal) {
      if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
      return { merchantId, violations: (await cases.listByMerchant(merchantId)).map((c) => caseView(c)) };
    },
  };
}

export type ViolationService = ReturnType<typeof createViolationService>;
