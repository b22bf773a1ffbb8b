import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createViolationRepository, type ViolationCase, type ViolationEvent } from '../../db/repositories/violations';
import { checkAppealReviewer } from '../../domain/violations';
import {
  appealUpdate,
  decideAppealUpdate,
  violationStateQuery,
  violationWorkflowId,
  type ViolationCaseState,
} from '../../workflows/violation-case.defs';
import { mayActFor, merchantNotFound, type Principal } from '../auth';
import { domainErrorAsHttp, forbidden, notFound } from '../errors';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate } from '../process-seam';
import { openViolationCase } from '../../activities/violation-open';
import { openAttention, type AttentionBody } from '../attention';
import { resolveAttentionUpdate, type AttentionOutcome } from '../../workflows/attention.defs';
import { fingerprintOf } from './reference';
import { createViolationListing } from './list';
import type { AppealBody, AppealDecisionBody, OpenViolationBody } from './schemas';

export interface ViolationServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  /** How long an update may take before the route answers 202 with the case's state. */
  updateWaitMs?: number;
}

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
 * the Web UI's BusinessStatus) while the stored status stays what counts for the shop's record.
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

  /**
   * How every update on a case answers a refusal: with the case's stored status. A reversed or
   * expired case's process has ended, and so has a permanent ban's.
   */
  const refusalsOf = (c: ViolationCase) => ({
    whenEnded: c.status === 'permanent' ? 'an especially serious violation cannot be appealed' : `violation case ${c.id} is ${c.status}: its process has ended`,
    refusalExtra: { caseStatus: c.status },
  });
  const shown = async (c: ViolationCase, principal: Principal, state: ViolationCaseState) =>
    asSeenBy(withEvents(caseView(c, state), await cases.events(c.id)), principal);

  const handleOf = (c: ViolationCase) => temporal.workflow.getHandle(c.workflowId ?? violationWorkflowId(c.id));

  return {
    /**
     * Opens a case once per reference. A new reference records the case and starts its
     * process (201); the same request again answers the case it opened (replayed, 200), and
     * starts its process if the first request could not; a different request under the
     * reference is a 409. Reading the reference first is only a shortcut (a retry still finds
     * its case after the shop has closed); the unique index decides races.
     */
    async open(body: OpenViolationBody, reference: string, principal: Principal, now = new Date()) {
      const { merchantId, shopId, type, level, evidence } = body;
      try {
        return await openViolationCase(
          { db, temporal, taskQueue },
          { merchantId, shopId, type, reportedLevel: level, evidence, openedBy: principal.sub, reference, fingerprint: fingerprintOf(body) },
          now,
        );
      } catch (err) {
        throw domainErrorAsHttp(err) ?? err;
      }
    },

    async appeal(caseId: string, body: AppealBody, principal: Principal) {
      const c = await load(caseId, principal);
      const state = await runUpdate(handleOf(c), {
        update: appealUpdate,
        args: [{ statement: body.statement, actor: principal.sub }],
        stateQuery: violationStateQuery,
        waitMs: updateWaitMs,
        what: `the appeal of case ${caseId}`,
        ...refusalsOf(c),
      });
      return shown(c, principal, state);
    },

    async decideAppeal(caseId: string, body: AppealDecisionBody, principal: Principal) {
      const c = await load(caseId, principal);
      const reviewer = checkAppealReviewer(c.openedBy, principal.sub);
      if (!reviewer.accepted) throw forbidden(reviewer.reason);
      const state = await runUpdate(handleOf(c), {
        update: decideAppealUpdate,
        args: [{ decision: body.decision, reasons: body.reasons, reviewer: principal.sub }],
        stateQuery: violationStateQuery,
        waitMs: updateWaitMs,
        what: `the appeal decision on case ${caseId}`,
        ...refusalsOf(c),
      });
      return shown(c, principal, state);
    },

    /** Ops answer a case waiting in needs_attention: retry the failed step, or abandon it (an appeal or its decision is dropped). */
    async resolveAttention(caseId: string, body: AttentionBody, principal: Principal) {
      const c = await load(caseId, principal);
      // A ban's process has ended too, but here no appeal is asked for: say so plainly.
      const outcome: AttentionOutcome = await runUpdate(handleOf(c), {
        update: resolveAttentionUpdate,
        args: [{ action: body.action, note: body.note, actor: principal.sub }],
        stateQuery: violationStateQuery,
        waitMs: updateWaitMs,
        what: `ops' answer on case ${caseId}`,
        ...refusalsOf(c),
        whenEnded: `violation case ${c.id} is ${c.status}: its process has ended`,
      });
      const state = await handleOf(c).query(violationStateQuery).catch(() => undefined);
      return { ...outcome, status: state?.status ?? null };
    },

    async view(caseId: string, principal: Principal) {
      const c = await load(caseId, principal);
      return asSeenBy(withEvents(caseView(c), await cases.events(c.id)), principal);
    },

    /** One page of every case the caller may see, the newest first. */
    list: createViolationListing(db),

    async listOf(merchantId: string, principal: Principal) {
      if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
      return { merchantId, violations: (await cases.listByMerchant(merchantId)).map((c) => asSeenBy(caseView(c), principal)) };
    },
  };
}

export type ViolationService = ReturnType<typeof createViolationService>;
