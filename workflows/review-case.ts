import { ActivityFailure, ApplicationFailure, condition, patched, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { CasePatchInput, VerificationActivities } from '../activities/verification';
import type { EntityType } from '../domain/verification';
import { ErrorType } from '../domain/errors';
import type { BusinessStatus } from './business-status';
import { OVERDUE, PROVISIONAL_DEADLINE } from './search-attributes';
import { decideUpdate, reviewCalendarUpdatedSignal, type CaseHistoryEntry, type ReviewDecision, type VerificationState, type VerificationStatus } from './verification.defs';

/*
 * What a reviewed case does the same way whichever process reviews it (a verification, a
 * change of entity): its case events, its deadline on the working-day calendar, the
 * escalation at that deadline. Each call issues the same commands, in the same order, as the
 * code it replaced in both workflows, so recorded runs replay unchanged.
 */

// Database writes: quick, retried until the database is back.
const { recordCaseEvent } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// The case's rows are written before the process starts (activities/process-start.ts); the
// retries cover a database that is briefly away.
export const { openCase } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

// Calendar maths: retried slowly so ops can load a missing year and the case goes on.
export const { planReviewDeadline, planResubmissionDeadline } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

// Platform calls: the client times out at PLATFORM_TIMEOUT_MS; 4xx are not retried.
export const { escalateOverdueCase, notifyMerchant } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

/** A reviewer's decision, held until the process has acted on it; the update answers then. */
export interface PendingDecision {
  current: ReviewDecision | undefined;
}

/**
 * Takes reviewers' decisions (the `decide` update) for a case in review, one at a time;
 * `check` adds the process's own refusals. The process clears `current` once it has acted, and
 * the caller gets the case as it then stands.
 */
export function takeDecisions(state: VerificationState, check: (decision: ReviewDecision) => void): PendingDecision {
  const pending: PendingDecision = { current: undefined };
  setHandler(
    decideUpdate,
    async (decision) => {
      pending.current = decision;
      await condition(() => pending.current === undefined);
      return state;
    },
    {
      validator: (decision) => {
        if (state.status !== 'in_review' || pending.current) {
          throw new Error(`case ${state.caseId} is ${state.status}: only a case in review takes a decision`);
        }
        check(decision);
      },
    },
  );
  return pending;
}

/** Official calendar data loaded by ops (the calendarUpdated signal): a provisional deadline is counted again. */
export function calendarUpdates(): { updated: boolean } {
  const calendar = { updated: false };
  setHandler(reviewCalendarUpdatedSignal, () => {
    calendar.updated = true;
  });
  return calendar;
}

export type RecordCaseEvent = (type: string, actor: string, details: Record<string, unknown>, patch: CasePatchInput) => Promise<void>;

/** Writes a case event, keeps the query's state in step, and shows the status (with Overdue) again. */
export function caseEventWriter(state: VerificationState, status: BusinessStatus<VerificationStatus>): RecordCaseEvent {
  return async (type, actor, details, patch) => {
    const entry: CaseHistoryEntry = { seq: state.history.length + 1, type, actor, at: new Date().toISOString(), details };
    await recordCaseEvent({ caseId: state.caseId, merchantId: state.merchantId, event: entry, patch });
    state.history.push(entry);
    if (patch.deadline !== undefined) state.deadline = patch.deadline;
    if (patch.overdue !== undefined) state.overdue = patch.overdue;
    if (patch.resubmitBy !== undefined) state.resubmitBy = patch.resubmitBy;
    // Every event shows the status again, with the overdue flag in the same upsert.
    status.set(patch.status ?? state.status, [{ key: OVERDUE, value: state.overdue }]);
  };
}

export interface ReviewDeadline {
  caseId: string;
  merchantId: string;
  entityType: EntityType;
  submittedAt: string;
  record: RecordCaseEvent;
  /** True once a reviewer's decision is waiting. */
  decided: () => boolean;
  /** Set by the process's calendarUpdated signal: official data replaced provisional days. */
  calendar: { updated: boolean };
}

/**
 * Sets the review deadline (SLA working days from submission), waits for a decision until it,
 * counts it again when official calendar data replaces a provisional deadline, and at the
 * deadline escalates to a supervisor; the case stays open until a reviewer decides.
 */
export async function awaitReviewDecision(review: ReviewDeadline): Promise<void> {
  const { caseId, merchantId, entityType, submittedAt, record, decided, calendar } = review;
  let plan = await planReviewDeadline({ entityType, submittedAt });
  calendar.updated = false; // counted on the calendar as it stands now
  // Runs recorded before provisional deadlines have no such field: no patch, no attribute.
  if (plan.provisional) upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: true }]);
  await record('deadline_set', 'system', plan, { deadline: plan.deadline, overdue: false, ...(plan.provisional ? { deadlineProvisional: true } : {}) });

  const replanWanted = () => calendar.updated && plan.provisional === true;
  let onTime = await waitUntil(() => decided() || replanWanted(), plan.deadline);
  // Runs recorded before re-planning never woke without a decision before their deadline.
  while (onTime && !decided() && patched('replan-provisional-review-deadline')) {
    calendar.updated = false;
    const from = plan.deadline;
    plan = await planReviewDeadline({ entityType, submittedAt });
    upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: plan.provisional === true }]);
    await record('deadline_replanned', 'system', { ...plan, from }, { deadline: plan.deadline, deadlineProvisional: plan.provisional === true });
    onTime = await waitUntil(() => decided() || replanWanted(), plan.deadline);
  }
  if (!onTime) {
    await escalateOverdueCase({ caseId, merchantId, deadline: plan.deadline });
    await record('escalated', 'system', { deadline: plan.deadline, notified: 'supervisor' }, { overdue: true });
    await condition(decided);
  }
}

/** The patch that closes a case with its final status. */
export function closed(status: VerificationStatus): CasePatchInput {
  return { status, closedAt: new Date().toISOString() };
}

/** An identity number another merchant holds (the activity's non-retryable refusal). */
export function isIdentityTaken(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.IdentityTaken;
}

/** Waits for `done` until an absolute instant; true if it happened in time. */
export async function waitUntil(done: () => boolean, deadline: string): Promise<boolean> {
  const msLeft = Date.parse(deadline) - Date.now();
  if (msLeft <= 0) return done();
  return condition(done, msLeft);
}
