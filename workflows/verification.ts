import {
  allHandlersFinished,
  condition,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  setHandler,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CasePatchInput, VerificationActivities } from '../activities/verification';
import { depositAccount } from './deposit-account';
import { DEPOSIT_PROCESS, depositWorkflowId } from './deposit-account.defs';
import { attentionGate, StepAbandoned } from './attention';
import { NEEDS_ATTENTION } from './attention.defs';
import { businessStatus } from './business-status';
import { BUSINESS_STATUS, MERCHANT_ID, PROCESS_TYPE } from './search-attributes';
import { processSummary } from './process';
import { awaitReviewDecision, calendarUpdates, caseEventWriter, closed, isIdentityTaken, notifyMerchant, openCase, planResubmissionDeadline, takeDecisions, waitUntil } from './review-case';
import {
  resubmitUpdate,
  verificationStateQuery,
  type Resubmission,
  type ReviewDecision,
  type VerificationInput,
  type VerificationResult,
  type VerificationState,
  type VerificationStatus,
} from './verification.defs';

// Database writes: quick, retried until the database is back.
const { activateMerchant } = proxyActivities<VerificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
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
  const status = businessStatus(state);
  let pendingResubmission: Resubmission | undefined;

  setHandler(verificationStateQuery, () => state);
  const calendar = calendarUpdates();
  const pending = takeDecisions(state, (decision) => {
    if (decision.decision !== 'approve' && decision.reasons.length === 0) {
      throw new Error(`to ${decision.decision.replace('_', ' ')} a reviewer must give reasons`);
    }
  });

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

  const write = caseEventWriter(state, status);

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

  const finish = async (outcome: VerificationResult['status'], shopId?: string): Promise<VerificationResult> => {
    await notifyMerchant({ caseId, merchantId, seq: state.history.length, template: `verification_${outcome}` });
    await condition(allHandlersFinished);
    status.final(outcome);
    return shopId ? { status: outcome, shopId } : { status: outcome };
  };

  await openCase({ caseId, merchantId });
  try {
    return await review();
  } catch (err) {
    if (!(err instanceof StepAbandoned)) throw err;
    const { actor, note } = err.resolution;
    await record('closed_by_ops', actor, { step: err.step, note: note ?? null }, closed('closed_by_ops'), false);
    // Whatever the abandoned step was answering is over: its caller gets the closed case.
    pending.current = undefined;
    pendingResubmission = undefined;
    return finish('closed_by_ops');
  }

  async function review(): Promise<VerificationResult> {
    // Cases started before `submittedBy` existed carry no submitter.
    await record('submitted', input.submittedBy ?? `merchant:${merchantId}`, { submissionSeq: 1 }, { status: 'in_review' });
    let submittedAt = input.submittedAt;

    for (;;) {
      await awaitReviewDecision({ caseId, merchantId, entityType: input.entityType, submittedAt, record, decided: () => pending.current !== undefined, calendar });

      const decision = pending.current as ReviewDecision;
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
          pending.current = undefined;
          return finish('rejected');
        }
        const { shopId } = activated;
        // Added with deposits: histories recorded before it replay without the child.
        if (patched('open-deposit-account')) await openDepositAccount(shopId, merchantId, input.entityType);
        await record('approved', decision.reviewer, { ...details, shopId }, closed('approved'));
        pending.current = undefined;
        return finish('approved', shopId);
      }
      if (decision.decision === 'reject') {
        await record('rejected', decision.reviewer, details, closed('rejected'));
        pending.current = undefined;
        return finish('rejected');
      }

      const { resubmitBy } = await planResubmissionDeadline({ requestedAt: new Date().toISOString() });
      await record('info_requested', decision.reviewer, { ...details, resubmitBy }, {
        status: 'awaiting_resubmission',
        resubmitBy,
        overdue: false,
      });
      pending.current = undefined;
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
        { key: BUSINESS_STATUS, value: 'awaiting_deposit' },
      ],
      // The Web UI's one line, as startProcess gives every other process.
      staticSummary: processSummary(DEPOSIT_PROCESS, { merchant: merchantId, shop: shopId }),
    });
  } catch (err) {
    // A merchant verified again keeps the deposit account it already has.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Undefined for an identity number another merchant holds; any other failure goes on. */
function identityTaken(err: unknown): undefined {
  if (isIdentityTaken(err)) return undefined;
  throw err;
}
