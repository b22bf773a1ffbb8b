import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { EntityChangeActivities } from '../activities/entity-change';
import type { CasePatchInput, VerificationActivities } from '../activities/verification';
import { ErrorType } from '../domain/errors';
import { depositWorkflowId, requirementChangedSignal } from './deposit-account.defs';
import { decideUpdate, entityChangeStateQuery, type EntityChangeInput, type EntityChangeResult } from './entity-change.defs';
import { OVERDUE, PROVISIONAL_DEADLINE, STATUS } from './search-attributes';
import { reviewCalendarUpdatedSignal, type CaseHistoryEntry, type ReviewDecision, type VerificationState, type VerificationStatus } from './verification.defs';

// Database writes: quick, retried until the database is back. An identity number another
// merchant holds is a non-retryable refusal, handled below.
const { recordCaseEvent } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { applyEntityChange } = proxyActivities<EntityChangeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.IdentityTaken] },
});

// The API writes the case rows right after starting us; give it a couple of minutes.
const { openCase } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

// Calendar maths: retried slowly so ops can load a missing year and the case goes on.
const { planReviewDeadline } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

// Platform calls (notifications, last month's sales): 4xx are not retried.
const { escalateOverdueCase, notifyMerchant } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});
const { reassessDepositForShopType } = proxyActivities<EntityChangeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

/**
 * A verified merchant's change of entity, reviewed like a verification (SLA deadline on the
 * working-day calendar of the new entity type, escalation at the SLA, a reviewer's decision)
 * but approved or rejected only: a change that needs more information is filed again.
 * Approval moves the merchant's entity, identity number and shop type together, then the
 * shop's deposit requirement under the new type, told to its deposit process. Rejection
 * changes nothing. A case costs about 30 history events: no continue-as-new.
 */
export async function entityChange(input: EntityChangeInput): Promise<EntityChangeResult> {
  const { caseId, merchantId } = input;
  const state: VerificationState = { caseId, merchantId, status: 'in_review', deadline: null, overdue: false, resubmitBy: null, history: [] };
  let pendingDecision: ReviewDecision | undefined;

  setHandler(entityChangeStateQuery, () => state);
  // Official calendar data loaded by ops: a provisional deadline is counted again (below).
  let calendarUpdated = false;
  setHandler(reviewCalendarUpdatedSignal, () => {
    calendarUpdated = true;
  });
  setHandler(
    decideUpdate,
    async (decision) => {
      pendingDecision = decision;
      await condition(() => pendingDecision === undefined);
      return state;
    },
    {
      validator: (decision) => {
        if (state.status !== 'in_review' || pendingDecision) {
          throw new Error(`case ${caseId} is ${state.status}: only a case in review takes a decision`);
        }
        if (decision.decision === 'request_info') {
          throw new Error('a change of entity is approved or rejected; reject it with reasons and the merchant files it again');
        }
        if (decision.decision === 'reject' && decision.reasons.length === 0) throw new Error('to reject a reviewer must give reasons');
      },
    },
  );

  const record = async (type: string, actor: string, details: Record<string, unknown>, patch: CasePatchInput) => {
    const entry: CaseHistoryEntry = { seq: state.history.length + 1, type, actor, at: new Date().toISOString(), details };
    await recordCaseEvent({ caseId, merchantId, event: entry, patch });
    state.history.push(entry);
    if (patch.status) state.status = patch.status;
    if (patch.deadline !== undefined) state.deadline = patch.deadline;
    if (patch.overdue !== undefined) state.overdue = patch.overdue;
    upsertSearchAttributes([
      { key: STATUS, value: state.status },
      { key: OVERDUE, value: state.overdue },
    ]);
  };
  const finish = async (result: EntityChangeResult): Promise<EntityChangeResult> => {
    await notifyMerchant({ caseId, merchantId, seq: state.history.length, template: `entity_change_${result.status}` });
    await condition(allHandlersFinished);
    return result;
  };

  await openCase({ caseId, merchantId });
  const change = { from: input.fromEntityType, to: input.toEntityType };
  await record('submitted', input.submittedBy, { submissionSeq: 1, ...change }, { status: 'in_review' });
  let plan = await planReviewDeadline({ entityType: input.toEntityType, submittedAt: input.submittedAt });
  calendarUpdated = false; // counted on the calendar as it stands now
  // Runs recorded before provisional deadlines have no such field: no patch, no attribute.
  if (plan.provisional) upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: true }]);
  await record('deadline_set', 'system', plan, { deadline: plan.deadline, overdue: false, ...(plan.provisional ? { deadlineProvisional: true } : {}) });
  const replanWanted = () => calendarUpdated && plan.provisional === true;
  let onTime = await waitUntil(() => pendingDecision !== undefined || replanWanted(), plan.deadline);
  // Runs recorded before re-planning never woke without a decision before their deadline.
  while (onTime && pendingDecision === undefined && patched('replan-provisional-review-deadline')) {
    calendarUpdated = false;
    const from = plan.deadline;
    plan = await planReviewDeadline({ entityType: input.toEntityType, submittedAt: input.submittedAt });
    upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: plan.provisional === true }]);
    await record('deadline_replanned', 'system', { ...plan, from }, { deadline: plan.deadline, deadlineProvisional: plan.provisional === true });
    onTime = await waitUntil(() => pendingDecision !== undefined || replanWanted(), plan.deadline);
  }
  if (!onTime) {
    await escalateOverdueCase({ caseId, merchantId, deadline: plan.deadline });
    await record('escalated', 'system', { deadline: plan.deadline, notified: 'supervisor' }, { overdue: true });
    await condition(() => pendingDecision !== undefined);
  }

  const decision = pendingDecision as ReviewDecision;
  if (decision.decision === 'reject') {
    await record('rejected', decision.reviewer, { reasons: decision.reasons }, closed('rejected'));
    pendingDecision = undefined;
    return finish({ status: 'rejected' });
  }

  let shop: { shopId: string; shopType: EntityChangeInput['toEntityType'] };
  try {
    shop = await applyEntityChange({ caseId, merchantId });
  } catch (err) {
    if (!isIdentityTaken(err)) throw err;
    // Another merchant was verified with the number while this case waited: nothing changed.
    const reasons = ['the identity number belongs to another merchant'];
    await record('rejected', 'system', { reasons, approvedBy: decision.reviewer }, closed('rejected'));
    pendingDecision = undefined;
    return finish({ status: 'rejected' });
  }
  const { requiredFen, month } = await reassessDepositForShopType({ shopId: shop.shopId, shopType: shop.shopType, asOf: new Date().toISOString() });
  // A closed shop's deposit process is gone; its saved requirement is what a reopening reads.
  await getExternalWorkflowHandle(depositWorkflowId(shop.shopId))
    .signal(requirementChangedSignal, { requiredFen, month })
    .catch(() => undefined);
  await record('approved', decision.reviewer, { reasons: decision.reasons, ...change, shopId: shop.shopId, requiredFen }, closed('approved'));
  pendingDecision = undefined;
  return finish({ status: 'approved', shopId: shop.shopId, requiredFen });
}

function isIdentityTaken(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.IdentityTaken;
}

function closed(status: VerificationStatus): CasePatchInput {
  return { status, closedAt: new Date().toISOString() };
}

/** Waits for `done` until an absolute instant; true if it happened in time. */
async function waitUntil(done: () => boolean, deadline: string): Promise<boolean> {
  const msLeft = Date.parse(deadline) - Date.now();
  if (msLeft <= 0) return done();
  return condition(done, msLeft);
}
