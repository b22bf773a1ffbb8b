import { allHandlersFinished, condition, getExternalWorkflowHandle, proxyActivities, setHandler } from '@temporalio/workflow';
import type { EntityChangeActivities } from '../activities/entity-change';
import { ErrorType } from '../domain/errors';
import { depositWorkflowId, requirementChangedSignal } from './deposit-account.defs';
import { entityChangeStateQuery, type EntityChangeInput, type EntityChangeResult } from './entity-change.defs';
import { businessStatus } from './business-status';
import { awaitReviewDecision, calendarUpdates, caseEventWriter, closed, isIdentityTaken, notifyMerchant, openCase, takeDecisions } from './review-case';
import type { ReviewDecision, VerificationState } from './verification.defs';

// An identity number another merchant holds is a non-retryable refusal, handled below.
const { applyEntityChange } = proxyActivities<EntityChangeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.IdentityTaken] },
});

// Platform calls (last month's sales): 4xx are not retried.
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
  const status = businessStatus(state);
  setHandler(entityChangeStateQuery, () => state);
  const calendar = calendarUpdates();
  const pending = takeDecisions(state, (d) => {
    if (d.decision === 'request_info') {
      throw new Error('a change of entity is approved or rejected; reject it with reasons and the merchant files it again');
    }
    if (d.decision === 'reject' && d.reasons.length === 0) throw new Error('to reject a reviewer must give reasons');
  });

  const record = caseEventWriter(state, status);
  const finish = async (result: EntityChangeResult): Promise<EntityChangeResult> => {
    await notifyMerchant({ caseId, merchantId, seq: state.history.length, template: `entity_change_${result.status}` });
    await condition(allHandlersFinished);
    status.final(result.status);
    return result;
  };

  await openCase({ caseId, merchantId });
  const change = { from: input.fromEntityType, to: input.toEntityType };
  await record('submitted', input.submittedBy, { submissionSeq: 1, ...change }, { status: 'in_review' });
  await awaitReviewDecision({
    caseId,
    merchantId,
    entityType: input.toEntityType,
    submittedAt: input.submittedAt,
    record,
    decided: () => pending.current !== undefined,
    calendar,
  });

  const decision = pending.current as ReviewDecision;
  if (decision.decision === 'reject') {
    await record('rejected', decision.reviewer, { reasons: decision.reasons }, closed('rejected'));
    pending.current = undefined;
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
    pending.current = undefined;
    return finish({ status: 'rejected' });
  }
  const { requiredFen, month } = await reassessDepositForShopType({ shopId: shop.shopId, shopType: shop.shopType, asOf: new Date().toISOString() });
  // A closed shop's deposit process is gone; its saved requirement is what a reopening reads.
  await getExternalWorkflowHandle(depositWorkflowId(shop.shopId))
    .signal(requirementChangedSignal, { requiredFen, month })
    .catch(() => undefined);
  await record('approved', decision.reviewer, { reasons: decision.reasons, ...change, shopId: shop.shopId, requiredFen }, closed('approved'));
  pending.current = undefined;
  return finish({ status: 'approved', shopId: shop.shopId, requiredFen });
}
