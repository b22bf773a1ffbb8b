import { ActivityFailure, allHandlersFinished, ApplicationFailure, condition, continueAsNew, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EnforcementActivities, RecordedBeforeRefusal } from '../activities/enforcement';
import { attentionLine, checkerRefusal, DEFAULT_REFUND_PAGE_SIZE, progressLine, refundProgress, transitionRefusal, type EnforcementAttention, type EnforcementState } from '../domain/enforcement';
import { ErrorType } from '../domain/errors';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { attentionGate } from './attention';
import { businessStatus } from './business-status';
import {
  approveEnforcementUpdate,
  CALLS_PER_RUN,
  enforcementStateQuery,
  PAGES_PER_CALL,
  pauseEnforcementUpdate,
  rejectEnforcementUpdate,
  resumeEnforcementUpdate,
  type EnforcementCarried,
  type EnforcementDecision,
  type EnforcementInput,
  type EnforcementResult,
  type EnforcementView,
} from './enforcement-action.defs';

/** Bookkeeping and the restriction: quick; a refusal (maker = checker, unknown action) is final. */
const books = proxyActivities<EnforcementActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.Forbidden, ErrorType.RecordNotFound, ErrorType.PlatformRejected, ErrorType.PlatformRefusalNeedsOps] },
});

/**
 * Refund pages: the heartbeat tells a dead worker apart within seconds and carries the cursor.
 * An outage is retried until it ends (each page is safe to resend); a call the platform refused
 * for good (PlatformRefusalNeedsOps) waits in needs_attention for ops to retry it.
 */
const refunds = proxyActivities<EnforcementActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.PlatformRejected, ErrorType.PlatformRefusalNeedsOps, ErrorType.DataRejected] },
});

/** What a refund call recorded before the platform refused it for good (the failure's details). */
function recordedBefore(err: unknown): RecordedBeforeRefusal | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure) || err.cause.type !== ErrorType.PlatformRefusalNeedsOps) return undefined;
  return err.cause.details?.[0] as RecordedBeforeRefusal | undefined;
}

/**
 * One enforcement action on a shop (docs/rules.md §5.5): opened by ops, approved by another
 * person, then withdrawals restricted at once and every consumer order refunded, page after
 * page, pausable by ops between pages. History holds one event group per activity call (a few
 * pages), never one per order; a long run continues as new every CALLS_PER_RUN calls.
 */
export async function enforcementAction(input: EnforcementInput): Promise<EnforcementResult> {
  const { actionId, shopId, openedBy } = input;
  let state: EnforcementState = input.carried ? (input.carried.paused ? 'paused' : 'refunding') : 'awaiting_approval';
  const holder: { status: EnforcementState } = { status: state };
  const status = businessStatus(holder);
  let decision: { kind: 'approve' | 'reject'; by: string } | undefined;
  let approvedBy: string | null = input.carried?.approvedBy ?? null;
  let paused = input.carried?.paused ?? false;
  const counts = { total: input.carried?.total ?? 0, refunded: input.carried?.refunded ?? 0, refused: input.carried?.refused ?? 0 };
  let afterOrderId = input.carried?.afterOrderId ?? '';
  let attention: EnforcementAttention | null = null;

  const view = (): EnforcementView => ({ actionId, shopId, state, openedBy, approvedBy, progress: refundProgress(counts), attention });
  const show = () => setCurrentDetails(attention ? attentionLine(refundProgress(counts), attention) : progressLine(state, refundProgress(counts)));
  const moveTo = (next: EnforcementState) => {
    state = next;
    status.set(next);
    show();
  };

  setHandler(enforcementStateQuery, view);
  const refuse = (step: 'approve' | 'reject' | 'pause' | 'resume', by: string) => {
    const wrongState = transitionRefusal(state, step);
    if (wrongState) throw new Error(wrongState);
    if (step === 'approve' || step === 'reject') {
      // `state` leaves awaiting_approval only once the decision is recorded; a second decision
      // admitted meanwhile (both sent at once) would overwrite the first, so the first one taken wins.
      // The same decision by the same person again (a retried request) changes nothing and is let in.
      if (decision && (decision.kind !== step || decision.by !== by)) throw new Error(`the action is already being ${decision.kind === 'approve' ? 'approved' : 'rejected'}: it cannot be ${step === 'approve' ? 'approved' : 'rejected'} now`);
      const sameCheck = checkerRefusal(openedBy, by);
      if (sameCheck) throw ApplicationFailure.create({ message: sameCheck, type: ErrorType.Forbidden, nonRetryable: true });
    }
  };
  const decide = (kind: 'approve' | 'reject') => async ({ by }: EnforcementDecision) => {
    decision = { kind, by };
    await condition(() => state !== 'awaiting_approval');
    return view();
  };
  setHandler(approveEnforcementUpdate, decide('approve'), { validator: ({ by }) => refuse('approve', by) });
  setHandler(rejectEnforcementUpdate, decide('reject'), { validator: ({ by }) => refuse('reject', by) });
  // Recorded before the answer, so a paused action reads paused in the database as soon as ops hear so.
  let stateWrites = 0;
  const pauseOrResume = (pause: boolean) => async (_: EnforcementDecision) => {
    paused = pause;
    moveTo(pause ? 'paused' : 'refunding');
    stateWrites++;
    try {
      await books.setEnforcementState({ actionId, state: pause ? 'paused' : 'refunding', at: new Date().toISOString() });
    } finally {
      stateWrites--;
    }
    return view();
  };
  setHandler(pauseEnforcementUpdate, pauseOrResume(true), { validator: ({ by }) => refuse('pause', by) });
  setHandler(resumeEnforcementUpdate, pauseOrResume(false), { validator: ({ by }) => refuse('resume', by) });

  // A step the platform refused for good waits for ops (retry only: the refunds must be made).
  // A pause's write in flight lands first (not the approval, which waits for this state to
  // change), so the row ends in needs_attention, then back in the state the action had:
  // refunding, or paused if ops paused it while the call was out.
  const gate = attentionGate(() => state, {
    async enter(a) {
      await condition(() => stateWrites === 0);
      attention = { step: a.step, error: a.error, since: a.since };
      moveTo('needs_attention');
      await books.setEnforcementAttention({ actionId, ...attention });
    },
    async leave() {
      attention = null;
      const back = paused ? 'paused' : 'refunding';
      await books.setEnforcementState({ actionId, state: back, at: new Date().toISOString() });
      moveTo(back);
    },
  });

  if (!input.carried) {
    show();
    await condition(() => decision !== undefined);
    const { kind, by } = decision!;
    await books.recordEnforcementDecision({ actionId, decision: kind, by, at: new Date().toISOString() });
    if (kind === 'reject') {
      state = 'rejected';
      show();
      status.final('rejected');
      await condition(allHandlersFinished);
      return { actionId, state: 'rejected', refunded: 0, refused: 0 };
    }
    approvedBy = by;
    // Withdrawals first and at once: the money must not leave while orders are refunded.
    await gate.run('restrictEnforcedShop', () => books.restrictEnforcedShop({ actionId, shopId }));
    counts.total = await books.countOrdersToRefund({ shopId });
    moveTo('refunding');
  }

  for (let calls = 0; ; calls++) {
    await condition(() => !paused);
    if (calls >= CALLS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      const carried: EnforcementCarried = { approvedBy: approvedBy!, paused, total: counts.total, refunded: counts.refunded, refused: counts.refused, afterOrderId };
      return continueAsNew<typeof enforcementAction>({ ...input, carried });
    }
    const page = await gate.run('refundEnforcementPages', async () => {
      try {
        return await refunds.refundEnforcementPages({ actionId, shopId, afterOrderId, pageSize: input.pageSize ?? DEFAULT_REFUND_PAGE_SIZE, pages: input.pagesPerCall ?? PAGES_PER_CALL });
      } catch (err) {
        // Pages recorded before the refusal count, and ops' retry starts after them.
        const before = recordedBefore(err);
        if (before) {
          counts.refunded += before.refunded;
          counts.refused += before.refused;
          afterOrderId = before.afterOrderId;
        }
        throw err;
      }
    });
    counts.refunded += page.refunded;
    counts.refused += page.refused;
    afterOrderId = page.afterOrderId;
    // Orders the shop sold after the count are refunded too: the total grows with them.
    counts.total = Math.max(counts.total, counts.refunded + counts.refused);
    show();
    if (page.done) break;
  }
  await condition(allHandlersFinished);
  await books.setEnforcementState({ actionId, state: 'completed', at: new Date().toISOString() });
  counts.total = counts.refunded + counts.refused;
  state = 'completed';
  show();
  status.final('completed');
  return { actionId, state: 'completed', refunded: counts.refunded, refused: counts.refused };
}
