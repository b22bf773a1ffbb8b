import { getExternalWorkflowHandle, proxyActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { PromotionClosureActivities } from '../activities/promotion-closure';
import { ErrorType } from '../domain/errors';
import { attentionGate, gated } from './attention';
import { NEEDS_ATTENTION } from './attention.defs';
import { depositWorkflowId, promotionClosedSignal } from './deposit-account.defs';
import { promotionClosureStateQuery, type PromotionClosureInput, type PromotionClosureState, type PromotionClosureStatus } from './promotion-closure.defs';
import { STATUS } from './search-attributes';

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
  // Money may already have moved when a step fails for good: ops fix the data and retry.
  const gate = attentionGate(() => state.status, {
    async enter(attention) {
      state.attention = attention;
      upsertSearchAttributes([{ key: STATUS, value: NEEDS_ATTENTION }]);
    },
    async leave() {
      state.attention = null;
      upsertSearchAttributes([{ key: STATUS, value: state.status }]);
    },
  });
  const act = gated(activities, gate);
  const setStatus = (status: PromotionClosureStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: STATUS, value: status }]);
  };
  setHandler(promotionClosureStateQuery, () => state);

  await act.switchOffThirdPartyPromotion({ requestId, shopId });
  setStatus('waiting');
  for (;;) {
    state.blockers = await act.promotionClosureBlockers({ shopId, asOf: new Date().toISOString() });
    const { openOrders, openViolations, afterSalesUntil } = state.blockers;
    if (openOrders === 0 && openViolations === 0 && afterSalesUntil === null) break;
    const until = afterSalesUntil ? Math.max(1, Date.parse(afterSalesUntil) - Date.now()) : RECHECK_MS;
    await sleep(Math.min(until, RECHECK_MS));
  }

  setStatus('settling');
  const collected = await act.collectOwedFromPromotion({ requestId, shopId });
  state.deductedFen = collected.deductedFen;
  state.stillOwedFen = collected.stillOwedFen;
  setStatus('refunding');
  const refunded = await act.refundPromotionDeposit({ requestId, shopId, actor: requestedBy });
  state.refundedFen = refunded.refundedFen;
  // The deposit process keeps the balances it shows and its shortfall; it may be gone (shop closed).
  await getExternalWorkflowHandle(depositWorkflowId(shopId))
    .signal(promotionClosedSignal, refunded.balances)
    .catch(() => undefined);
  setStatus('closed');
  return state;
}
