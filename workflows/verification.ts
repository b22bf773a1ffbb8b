import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CasePatchInput, VerificationActivities } from '../activities/verification';
import { ErrorType } from '../domain/errors';
import { depositAccount } from './deposit-account';
import { DEPOSIT_PROCESS, depositWorkflowId } from './deposit-account.defs';
import { attentionGate, StepAbandoned } from './attention';
import { NEEDS_ATTENTION } from './attention.defs';
import { MERCHANT_ID, OVERDUE, PROCESS_TYPE, PROVISIONAL_DEADLINE, STATUS } from './search-attributes';
import {
  decideUpdate,
  resubmitUpdate,
  reviewCalendarUpdatedSignal,
  verificationStateQuery,
  type CaseHistoryEntry,
  type Resubmission,
  type ReviewDecision,
  type VerificationInput,
  type VerificationResult,
  type VerificationState,
  type VerificationStatus,
} from './verification.defs';

// Database writes: quick, retried until the database is back.
const { recordCaseEvent, activateMerchant } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// The API writes the case rows right after starting us; give it a couple of minutes.
const { openCase } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

// Calendar maths: retried slowly so ops can load a missing year and the case goes on.
const { planReviewDeadline, planResubmissionDeadline } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

// Platform calls: the client times out at PLATFORM_TIMEOUT_MS; 4xx are not retried.
const { escalateOverdueCase, notifyMerchant } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [ErrorType.PlatformRejected],
  },
});

/**
 * One entity verification review, from submission to approval, rejection or
 * abandonment. Reviewers decide through the `decide` update; merchants answer a
 * request for information through `resubmit`. The SLA deadline and the resubmission
 * window are computed by activities (calendar and config) and kept in history.
 *
 * A review round costs 35–80 history events (recorded histories in test/replay) and
 * rounds are human-paced, so the history stays far below Temporal's limits without
 * continue-as-new.
 */
export async function verificationReview(input: VerificationInput): Promise<VerificationResult> {
  const { caseId, merchantId } = input;
  const state: VerificationState = {
    caseId,
    merchantId,
    status: 'in_review',
    deadline: null,
    overdue: false,
    resubmitBy: null,
    history: [],
    attention: null,
  };
  let pendingDecision: ReviewDecision | undefined;
  let pendingResubmission: Resubmission | undefined;

  setHandler(verificationStateQuery, () => state);
  // Official calendar data loaded by ops: a provisional deadline is counted again (below).
  let calendarUpdated = false;
  setHandler(reviewCalendarUpdatedSignal, () => {
    calendarUpdated = true;
  });

  setHandler(
    decideUpdate,
    async (decision) => {
      pendingDecision = decision;
      // Answer once the main loop has acted on it, so the caller sees the outcome.
      await condition(() => pendingDecision === undefined);
      return state;
    },
    {
      validator: (decision) => {
        if (state.status !== 'in_review' || pendingDecision) {
          throw new Error(`case ${caseId} is ${state.status}: only a case in review takes a decision`);
        }
        if (decision.decision !== 'approve' && decision.reasons.length === 0) {
          throw new Error(`to ${decision.decision.replace('_', ' ')} a reviewer must give reasons`);
        }
      },
    },
  );

  setHandler(
    resubmitUpdate,
    async (resubmission) => {
      pendingResubmission = resubmission;
      await condition(() => pendingResubmission === undefined);
      return state;
    },
    {
      validator: (_resubmission: Resubmission) => {
        if (state.status !== 'awaiting_resubmission' || pendingResubmission) {
          throw new Error(`case ${caseId} is ${state.status}: it is not waiting for a resubmission`);
        }
      },
    },
  );

  const write = async (type: string, actor: string, details: Record<string, unknown>, patch: CasePatchInput) => {
    const entry: CaseHistoryEntry = { seq: state.history.length + 1, type, actor, at: new Date().toISOString(), details };
    await recordCaseEvent({ caseId, merchantId, event: entry, patch });
    state.history.push(entry);
    if (patch.status) state.status = patch.status;
    if (patch.deadline !== undefined) state.deadline = patch.deadline;
    if (patch.overdue !== undefined) state.overdue = patch.overdue;
    if (patch.resubmitBy !== undefined) state.resubmitBy = patch.resubmitBy;
    upsertSearchAttributes([
      { key: STATUS, value: state.status },
      { key: OVERDUE, value: state.overdue },
    ]);
  };

  // A step the database refuses for good (a reason it cannot store) waits for ops: retry, or
  // abandon, which closes the case so the merchant can file again.
  const gate = attentionGate(() => state.status, {
    async enter(attention) {
      state.attention = attention;
      const { step, error, errorType } = attention;
      await write(NEEDS_ATTENTION, 'system', { step, error, errorType }, { status: 'needs_attention' });
    },
    async leave(attention, resolution) {
      state.attention = null;
      const details = { step: attention.step, action: resolution.action, note: resolution.note ?? null };
      await write('attention_resolved', resolution.actor, details, { status: attention.statusBefore as VerificationStatus });
    },
  });

  const record = (type: string, actor: string, details: Record<string, unknown>, patch: CasePatchInput, abandonable = true) =>
    gate.run(`record ${type}`, () => write(type, actor, details, patch), { abandonable });

  const finish = async (status: VerificationResult['status'], shopId?: string): Promise<VerificationResult> => {
    await notifyMerchant({ caseId, merchantId, seq: state.history.length, template: `verification_${status}` });
    await condition(allHandlersFinished);
    return shopId ? { status, shopId } : { status };
  };

  await openCase({ caseId, merchantId });
  try {
    return await review();
  } catch (err) {
    if (!(err instanceof StepAbandoned)) throw err;
    const { actor, note } = err.resolution;
    await record('closed_by_ops', actor, { step: err.step, note: note ?? null }, closed('closed_by_ops'), false);
    // Whatever the abandoned step was answering is over: its caller gets the closed case.
    pendingDecision = undefined;
    pendingResubmission = undefined;
    return finish('closed_by_ops');
  }

  async function review(): Promise<VerificationResult> {
    // Cases started before `submittedBy` existed carry no submitter.
    await record('submitted', input.submittedBy ?? `merchant:${merchantId}`, { submissionSeq: 1 }, { status: 'in_review' });
    let submittedAt = input.submittedAt;

    for (;;) {
      let plan = await planReviewDeadline({ entityType: input.entityType, submittedAt });
      calendarUpdated = false; // counted on the calendar as it stands now
      // Runs recorded before provisional deadlines have no such field: no patch, no attribute.
      const setPatch = plan.provisional ? { deadlineProvisional: true } : {};
      if (plan.provisional) upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: true }]);
      await record('deadline_set', 'system', plan, { deadline: plan.deadline, overdue: false, ...setPatch });

      const replanWanted = () => calendarUpdated && plan.provisional === true;
      let onTime = await waitUntil(() => pendingDecision !== undefined || replanWanted(), plan.deadline);
      // Runs recorded before re-planning never woke without a decision before their deadline.
      while (onTime && pendingDecision === undefined && patched('replan-provisional-review-deadline')) {
        calendarUpdated = false;
        const from = plan.deadline;
        plan = await planReviewDeadline({ entityType: input.entityType, submittedAt });
        upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: plan.provisional === true }]);
        const patch = { deadline: plan.deadline, deadlineProvisional: plan.provisional === true };
        await record('deadline_replanned', 'system', { ...plan, from }, patch);
        onTime = await waitUntil(() => pendingDecision !== undefined || replanWanted(), plan.deadline);
      }
      if (!onTime) {
        await escalateOverdueCase({ caseId, merchantId, deadline: plan.deadline });
        await record('escalated', 'system', { deadline: plan.deadline, notified: 'supervisor' }, { overdue: true });
        await condition(() => pendingDecision !== undefined);
      }

      const decision = pendingDecision as ReviewDecision;
      const details = { reasons: decision.reasons };
      if (decision.decision === 'approve') {
        const activated = await gate.run(
          'activate merchant',
          () => activateMerchant({ caseId, merchantId, entityType: input.entityType }).catch(identityTaken),
          { abandonable: true },
        );
        if (!activated) {
          // Another merchant was verified with the number while this case waited (the API
          // refuses such an approval up front; this is the race it cannot see).
          const reasons = ['the identity number belongs to another merchant'];
          await record('rejected', 'system', { reasons, approvedBy: decision.reviewer }, closed('rejected'));
          pendingDecision = undefined;
          return finish('rejected');
        }
        const { shopId } = activated;
        // Added with deposits: histories recorded before it replay without the child.
        if (patched('open-deposit-account')) await openDepositAccount(shopId, merchantId, input.entityType);
        await record('approved', decision.reviewer, { ...details, shopId }, closed('approved'));
        pendingDecision = undefined;
        return finish('approved', shopId);
      }
      if (decision.decision === 'reject') {
        await record('rejected', decision.reviewer, details, closed('rejected'));
        pendingDecision = undefined;
        return finish('rejected');
      }

      const { resubmitBy } = await planResubmissionDeadline({ requestedAt: new Date().toISOString() });
      await record('info_requested', decision.reviewer, { ...details, resubmitBy }, {
        status: 'awaiting_resubmission',
        resubmitBy,
        overdue: false,
      });
      pendingDecision = undefined;
      await notifyMerchant({ caseId, merchantId, seq: state.history.length, template: 'verification_info_requested' });

      if (!(await waitUntil(() => pendingResubmission !== undefined, resubmitBy))) {
        await record('abandoned', 'system', { resubmitBy }, closed('abandoned'));
        return finish('abandoned');
      }
      const resubmission = pendingResubmission as Resubmission;
      submittedAt = resubmission.submittedAt;
      await record('resubmitted', resubmission.by, { submissionSeq: resubmission.submissionSeq }, {
        status: 'in_review',
        resubmitBy: null,
      });
      pendingResubmission = undefined;
    }
  }
}

/** Approval opens the shop's deposit account (docs/rules.md §1): a process of its own. */
async function openDepositAccount(shopId: string, merchantId: string, shopType: VerificationInput['entityType']): Promise<void> {
  try {
    await startChild(depositAccount, {
      workflowId: depositWorkflowId(shopId),
      args: [{ shopId, merchantId, shopType }],
      // The deposit lives as long as the shop, long after this review has ended.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: MERCHANT_ID, value: merchantId },
        { key: PROCESS_TYPE, value: DEPOSIT_PROCESS },
        { key: STATUS, value: 'awaiting_deposit' },
      ],
    });
  } catch (err) {
    // A merchant verified again keeps the deposit account it already has.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Undefined for an identity number another merchant holds; any other failure goes on. */
function identityTaken(err: unknown): undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.IdentityTaken) return undefined;
  throw err;
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
