import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { ClosureActivities } from '../activities/closure';
import { ErrorType } from '../domain/errors';
import { closureSignal, depositWorkflowId } from './deposit-account.defs';
import { attentionGate, attentionOnState, gated } from './attention';
import { businessStatus } from './business-status';
import {
  cancelClosureUpdate,
  closureStateQuery,
  penaltyCaseOf,
  type CancelClosureRequest,
  type ClosureInput,
  type ClosureState,
  type ClosureStatus,
} from './shop-closure.defs';

const activities = proxyActivities<ClosureActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

const CLOSURE_REPORTS_HELD = 'closure-reports-held-balance';
// From this change on a closure collects what is owed (a fine above the deposit) even when
// its final statement owes nothing; histories from before it collected a debt only.
const OWED_COLLECTED_ALWAYS = 'owed-collected-always';

// With nothing to wait for but open orders, look again daily: orders finish on their own.
const RECHECK_MS = 24 * 60 * 60 * 1000;

/**
 * Closes a shop (docs/rules.md §2): new listings and sales stop at once; it waits
 * until every order is finished, every after-sales window has passed and no violation
 * case is open; runs the final settlement; deducts what is owed; refunds the rest of
 * both deposits exactly once; closes the shop. The merchant may cancel until the refund
 * starts, and the shop's functions come back.
 */
export async function shopClosure(input: ClosureInput): Promise<ClosureState> {
  const { closureId, shopId, merchantId } = input;
  // A closure a penalty started is the penalty: only the reversal of that case may cancel it.
  const penaltyCaseId = penaltyCaseOf(input);
  const state: ClosureState = { closureId, shopId, status: 'waiting', blockers: null, owedFen: null, refundedFen: null, attention: null };
  const status = businessStatus(state);
  // A step the database refuses for good waits for ops to fix the data and retry it: money
  // may already have moved, so there is nothing to abandon.
  const gate = attentionGate(() => state.status, attentionOnState(state, status));
  const act = gated(activities, gate);
  let cancelledBy: string | undefined;
  let cancellationRecorded = false;
  const deposit = getExternalWorkflowHandle(depositWorkflowId(shopId));
  const tellDeposit = async (event: 'started' | 'cancelled' | 'closed', balances?: { balanceFen: number; promotionBalanceFen: number }) => {
    // The deposit process may be gone (already closed); the closure does not depend on it.
    await deposit.signal(closureSignal, { event, ...balances }).catch(() => undefined);
  };
  // The status changes at once (a cancellation is refused from `settling` on) and shows once recorded.
  const moveTo = (next: ClosureStatus) =>
    status.setRecorded(next, () =>
      act.recordClosureStatus({ closureId, status: next, details: { blockers: state.blockers, owedFen: state.owedFen, refundedFen: state.refundedFen } }),
    );

  setHandler(closureStateQuery, () => state);
  setHandler(
    cancelClosureUpdate,
    async ({ actor }) => {
      cancelledBy = actor;
      // Answer once the cancellation is recorded, so a read right after agrees with it.
      // Runs from before that change answered as soon as the status flipped.
      const afterRecord = patched('cancel-answers-after-record');
      await condition(() => (afterRecord ? cancellationRecorded : state.status === 'cancelled'));
      return state;
    },
    {
      validator: (req: CancelClosureRequest) => {
        if (penaltyCaseId !== null && req.reversalOf !== penaltyCaseId) {
          throw new Error(
            `closure ${closureId} was started by the penalty of violation case ${penaltyCaseId}: only an upheld appeal of that case can cancel it`,
          );
        }
        if (penaltyCaseId === null && req.reversalOf !== undefined) {
          throw new Error(`closure ${closureId} was not started by violation case ${req.reversalOf}: its reversal leaves it alone`);
        }
        if (state.status !== 'waiting' || cancelledBy) {
          throw new Error(`closure ${closureId} is ${state.status}: it can only be cancelled before the refund`);
        }
      },
    },
  );

  await act.suspendShopForClosure({ closureId, shopId, merchantId });
  await tellDeposit('started');

  for (;;) {
    if (cancelledBy) break;
    state.blockers = await act.closureBlockers({ shopId, asOf: new Date().toISOString() });
    const { openOrders, openViolations, afterSalesUntil } = state.blockers;
    if (openOrders === 0 && openViolations === 0 && afterSalesUntil === null) break;
    await act.recordClosureStatus({ closureId, status: 'waiting', details: { blockers: state.blockers } });
    const until = afterSalesUntil ? Math.max(1, Date.parse(afterSalesUntil) - Date.now()) : RECHECK_MS;
    await condition(() => cancelledBy !== undefined, Math.min(until, RECHECK_MS));
  }

  if (cancelledBy) {
    await act.cancelClosure({ closureId, shopId, merchantId, actor: cancelledBy });
    await tellDeposit('cancelled');
    await moveTo('cancelled');
    cancellationRecorded = true;
    await condition(allHandlersFinished);
    status.final('cancelled');
    return state;
  }

  await moveTo('settling');
  // As of the workflow's time: the statement's period must not depend on when the activity runs.
  const { owedFen } = await act.finalSettlement({ closureId, shopId, merchantId, asOf: new Date().toISOString() });
  state.owedFen = owedFen;
  if (owedFen > 0 || patched(OWED_COLLECTED_ALWAYS)) {
    const collected = await act.deductOwed({ closureId, shopId, owedFen });
    // Absent from answers of older runs; what stays owed is in the ledger's receivable either way.
    state.stillOwedFen = collected?.stillOwedFen ?? 0;
  }

  // From here on the money leaves: no cancellation, and each refund carries its own key.
  await moveTo('refunding');
  state.refundedFen = await act.refundDeposits({ closureId, shopId });
  await act.completeClosure({ closureId, shopId, merchantId });
  // The deposit process shows what the ledger still holds (money with no payment to refund it to).
  const held = state.refundedFen.heldFen;
  const left = held && (held.deposit > 0 || held.promotionDeposit > 0) && patched(CLOSURE_REPORTS_HELD) ? held : { deposit: 0, promotionDeposit: 0 };
  await tellDeposit('closed', { balanceFen: left.deposit, promotionBalanceFen: left.promotionDeposit });
  await moveTo('closed');
  await condition(allHandlersFinished);
  status.final('closed');
  return state;
}
