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
  violationWorkflowId,
  type ViolationCaseInput,
  type ViolationCaseState,
} from '../../workflows/violation-case.defs';
import { mayActFor, merchantNotFound, type Principal } from '../auth';
import { conflict, forbidden, notFound } from '../errors';
import type { AppealBody, AppealDecisionBody, OpenViolationBody } from './schemas';

export interface ViolationServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
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

/** Violation cases between HTTP and their violationCase processes; reads come from the database the process writes. */
export function createViolationService({ db, temporal, taskQueue }: ViolationServiceDeps) {
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
    return { ...caseView(c, state), history: historyView(await cases.events(c.id)) };
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
      return update(c, () => handleOf(c).executeUpdate(appealUpdate, { args: [{ statement: body.statement, actor: principal.sub }] }));
    },

    async decideAppeal(caseId: string, body: AppealDecisionBody, principal: Principal) {
      const c = await load(caseId, principal);
      const reviewer = checkAppealReviewer(c.openedBy, principal.sub);
      if (!reviewer.accepted) throw forbidden(reviewer.reason);
      return update(c, () =>
        handleOf(c).executeUpdate(decideAppealUpdate, { args: [{ decision: body.decision, reasons: body.reasons, reviewer: principal.sub }] }),
      );
    },

    async view(caseId: string, principal: Principal) {
      const c = await load(caseId, principal);
      return { ...caseView(c), history: historyView(await cases.events(c.id)) };
    },

    async listOf(merchantId: string, principal: Principal) {
      if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
      return { merchantId, violations: (await cases.listByMerchant(merchantId)).map((c) => caseView(c)) };
    },
  };
}

export type ViolationService = ReturnType<typeof createViolationService>;
