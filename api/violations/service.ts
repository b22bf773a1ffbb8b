import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
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
import { fingerprintOf } from './reference';
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

/** What a merchant sees where a staff member's id stands. */
export const STAFF_ACTOR = 'staff';

/**
 * Staff ids (who opened the case, who decided the appeal, who acted in its history) are
 * internal: a merchant sees its own id and `system`, and `staff` for anyone else. Actors are
 * kept without their role, so another user of the same merchant also shows as `staff`.
 */
function asSeenBy<V extends { openedBy: string; appeal: ViolationCaseState['appeal']; history?: Array<{ actor: string }> }>(view: V, principal: Principal): V {
  if (principal.role !== 'merchant') return view;
  const shown = (actor: string) => (actor === 'system' || actor === principal.sub ? actor : STAFF_ACTOR);
  const appeal = view.appeal && { ...view.appeal, filedBy: shown(view.appeal.filedBy), decidedBy: view.appeal.decidedBy === null ? null : STAFF_ACTOR };
  const history = view.history?.map((e) => ({ ...e, actor: shown(e.actor) }));
  return { ...view, openedBy: STAFF_ACTOR, appeal, ...(history ? { history } : {}) };
}

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
  async function update(c: ViolationCase, principal: Principal, run: () => Promise<ViolationCaseState>) {
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
    return asSeenBy(withEvents(caseView(c, state), await cases.events(c.id)), principal);
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

  /** Starts a case's process; a process already running for it (a replay racing the first request) is the one. */
  async function startProcess(input: ViolationCaseInput, workflowId: string): Promise<void> {
    await temporal.workflow.start(VIOLATION_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [input],
      // One process per case id, never a second run, whichever request starts it.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: MERCHANT_ID, value: input.merchantId },
        { key: PROCESS_TYPE, value: VIOLATION_PROCESS },
        { key: STATUS, value: 'opening' },
      ],
    });
  }

  /** The answer to a reference already used: its case when the request is the same, else a 409. */
  async function replay(c: ViolationCase, reference: string, fingerprint: string) {
    if (c.requestFingerprint !== fingerprint) throw conflict(`reference ${reference} already opened case ${c.id} with a different request`, { caseId: c.id });
    const workflowId = c.workflowId ?? violationWorkflowId(c.id);
    if (c.status === 'opening') {
      // The first request may have recorded the case and failed (or not yet got) to start its process.
      const input: ViolationCaseInput = { caseId: c.id, merchantId: c.merchantId, shopId: c.shopId, type: c.type, reportedLevel: c.reportedLevel, evidence: c.evidence, openedBy: c.openedBy };
      await startProcess(input, workflowId).catch((err: unknown) => {
        // Its run has already ended: nothing to start.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      });
    }
    return { caseId: c.id, workflowId, status: c.status, reference, replayed: true };
  }

  return {
    /**
     * Opens a case once per reference. A new reference records the case and starts its
     * process (201); the same request again answers the case it opened (replayed, 200), and
     * starts its process if the first request could not; a different request under the
     * reference is a 409. Reading the reference first is only a shortcut (a retry still finds
     * its case after the shop has closed); the unique index decides races.
     */
    async open(body: OpenViolationBody, reference: string, principal: Principal, now = new Date()) {
      const fingerprint = fingerprintOf(body);
      const earlier = await cases.findByReference(reference);
      if (earlier) return replay(earlier, reference, fingerprint);

      const shop = await db('shops').where({ id: body.shopId }).first<{ id: string; merchant_id: string; status: string } | undefined>();
      if (!shop) throw notFound(`shop ${body.shopId} does not exist`);
      if (shop.merchant_id !== body.merchantId) throw conflict(`shop ${body.shopId} does not belong to merchant ${body.merchantId}`);
      if (shop.status === 'closed') throw conflict(`shop ${body.shopId} is closed`);

      const caseId = newCaseId();
      const workflowId = violationWorkflowId(caseId);
      // The row first: the process reads the case from it.
      const recorded = await cases.insert({
        id: caseId,
        merchantId: body.merchantId,
        shopId: body.shopId,
        type: body.type,
        level: body.level,
        evidence: body.evidence,
        openedBy: principal.sub,
        openedAt: now,
        workflowId,
        reference: { reference, fingerprint },
      });
      // Another request under the same reference recorded its case first.
      if (!recorded.opened) return replay(recorded.existing, reference, fingerprint);
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
        await startProcess(input, workflowId);
      } catch (err) {
        await forgetUnstarted(caseId, workflowId);
        throw err;
      }
      return { caseId, workflowId, status: 'opening' as const, reference, replayed: false };
    },

    async appeal(caseId: string, body: AppealBody, principal: Principal) {
      const c = await load(caseId, principal);
      return update(c, principal, () =>
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
      return update(c, principal, () =>
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
      return asSeenBy(withEvents(caseView(c), await cases.events(c.id)), principal);
    },

    async listOf(merchantId: string, principal: Principal) {
      if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
      return { merchantId, violations: (await cases.listByMerchant(merchantId)).map((c) => asSeenBy(caseView(c), principal)) };
    },
  };
}

export type ViolationService = ReturnType<typeof createViolationService>;
