import { getExternalWorkflowHandle, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { PromotionClosureActivities } from '../activities/promotion-closure';
import { ErrorType } from '../domain/errors';
import { attentionGate, attentionOnState, gated } from './attention';
import { businessStatus } from './business-status';
import { depositWorkflowId, promotionClosedSignal } from './deposit-account.defs';
import { promotionClosureStateQuery, type PromotionClosureInput, type PromotionClosureState } from './promotion-closure.defs';

const activities = proxyActivities<PromotionClosureActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

// With nothing to wait for but open orders or an undecided case, look again daily.
const RECHECK_MS = 24 * 60 * 60 * 1000;

/**
 * Closes a shop's third-party promotion ([src] the merchant applies and the shop-exit rules
 * are met; the platform deducts what the rules say and refunds the rest). The function goes
 * off on the platform at once; the refund waits until every order is finished, every
 * after-sales window has passed and no violation case is undecided; then what the merchant
 * owes is taken from the promotion deposit and the rest is refunded, exactly once.
 */
export async function promotionClosure(input: PromotionClosureInput): Promise<PromotionClosureState> {
  const { requestId, shopId, requestedBy } = input;
  const state: PromotionClosureState = {
    requestId,
    shopId,
    status: 'switching_off',
    requestedBy,
    blockers: null,
    deductedFen: null,
    refundedFen: null,
    stillOwedFen: null,
    attention: null,
  };
  const status = businessStatus(state);
  // Money may already have moved when a step fails for good: ops fix the data and retry.
  const gate = attentionGate(() => state.status, attentionOnState(state, status));
  const act = gated(activities, gate);
  setHandler(promotionClosureStateQuery, () => state);

  await act.switchOffThirdPartyPromotion({ requestId, shopId });
  status.set('waiting');
  for (;;) {
    state.blockers = await act.promotionClosureBlockers({ shopId, asOf: new Date().toISOString() });
    const { openOrders, openViolations, afterSalesUntil } = state.blockers;
    if (openOrders === 0 && openViolations === 0 && afterSalesUntil === null) break;
    const until = afterSalesUntil ? Math.max(1, Date.parse(afterSalesUntil) - Date.now()) : RECHECK_MS;
    await sleep(Math.min(until, RECHECK_MS));
  }

  status.set('settling');
  const collected = await act.collectOwedFromPromotion({ requestId, shopId });
  state.deductedFen = collected.deductedFen;
  state.stillOwedFen = collected.stillOwedFen;
  status.set('refunding');
  const refunded = await act.refundPromotionDeposit({ requestId, shopId, actor: requestedBy });
  state.refundedFen = refunded.refundedFen;
  // The deposit process keeps the balances it shows and its shortfall; it may be gone (shop closed).
  await getExternalWorkflowHandle(depositWorkflowId(shopId))
    .signal(promotionClosedSignal, refunded.balances)
    .catch(() => undefined);
  status.set('closed');
  status.final('closed');
  return state;
}
