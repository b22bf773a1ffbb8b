import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LinkWindowActivities, PassOutcome } from '../activities/link-windows';
import { ErrorType } from '../domain/errors';
import { attentionGate, attentionOnState, gated } from './attention';
import { closingInstant, openingInstant } from '../domain/link-windows';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { businessStatus } from './business-status';
import {
  cancelWindowUpdate,
  changeWindowUpdate,
  linksListedSignal,
  linkWindowStateQuery,
  type CancelWindow,
  type LinkWindowInput,
  type LinkWindowState,
  type WindowPlan,
} from './link-window.defs';

// Platform calls over links claimed with their key before each call: a 5xx or timeout retries
// and re-sends the claimed group under its key first (a replay); a publish refused (4xx) is
// recorded on its links; a refused take-down or a 401/403 waits for ops (needs_attention).
const platformPassActivities = proxyActivities<LinkWindowActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.DataRejected] },
});
const recordActivities = proxyActivities<LinkWindowActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.DataRejected] },
});

const ENDED = new Set(['closing', 'closed', 'cancelled']);

const untilMs = (instant: Date | null): number | undefined => (instant === null ? undefined : instant.getTime() - Date.now());

/**
 * A link window (docs/rules.md §5.2): sleeps to its opening, then puts the links of bound
 * stores for its partner and kind live; while open it publishes links listed meanwhile; at its
 * end it takes every link it put live down, each exactly once, with progress. A new version of
 * its dates re-plans the opening (before) or the end (while open); a cancel before opening ends
 * it without publishing, while open it closes the window now. One pass covers up to 2,000
 * links, never one history event per link.
 */
export async function linkWindow(input: LinkWindowInput, carried?: LinkWindowState): Promise<LinkWindowState> {
  const { windowId, partner, linkKind } = input;
  const state: LinkWindowState = carried ?? {
    windowId,
    status: 'scheduled',
    plan: input.plan,
    progress: { published: 0, publishFailed: 0, takenDown: 0, takeDownFailed: 0, remaining: 0 },
    cancelledBy: null,
    attention: null,
  };
  const status = businessStatus(state);
  // A step whose data the database refuses for good waits in needs_attention for ops to retry
  // it (after fixing the data), instead of failing the window with its links still live.
  const gate = attentionGate(() => state.status, attentionOnState(state, status));
  const platformPasses = gated(platformPassActivities, gate);
  const records = gated(recordActivities, gate);
  let changed = false;
  let cancelled = false;
  let listed = carried !== undefined;

  const refuseEnded = (..._args: unknown[]) => {
    if (ENDED.has(state.status)) throw new Error(`link window ${windowId} is ${state.status}`);
  };
  setHandler(linkWindowStateQuery, () => state);
  setHandler(
    changeWindowUpdate,
    async (plan: WindowPlan) => {
      state.plan = plan;
      changed = true;
      // The rows show the dates the process runs on: recorded by the process, not the caller.
      await records.recordVersionApplied({ windowId, version: plan.version });
      return state;
    },
    {
      validator: (plan) => {
        refuseEnded();
        if (plan.version <= state.plan.version) throw new Error(`version ${plan.version} is not after version ${state.plan.version}`);
        if (state.status === 'open' && plan.opensOn !== state.plan.opensOn) throw new Error(`link window ${windowId} opened on ${state.plan.opensOn}; its opening cannot change`);
      },
    },
  );
  setHandler(
    cancelWindowUpdate,
    ({ actor }: CancelWindow) => {
      cancelled = true;
      state.cancelledBy = actor;
      return state;
    },
    { validator: refuseEnded },
  );
  setHandler(linksListedSignal, () => {
    listed = true;
  });

  const show = ({ totals, remaining }: PassOutcome) => {
    state.progress = { published: totals.published, publishFailed: totals.publishFailed, takenDown: totals.takenDown, takeDownFailed: totals.takeDownFailed, remaining };
  };
  const publish = async () => {
    listed = false;
    let outcome: PassOutcome;
    do {
      outcome = await platformPasses.publishWindowLinks({ windowId, partner, linkKind, version: state.plan.version });
      show(outcome);
    } while (outcome.remaining > 0 && outcome.calls > 0);
  };

  while (state.status === 'scheduled') {
    if (cancelled) {
      await records.recordWindowStatus({ windowId, status: 'cancelled' });
      status.set('cancelled');
      status.final('cancelled');
      return state;
    }
    const wait = openingInstant(state.plan).getTime() - Date.now();
    if (wait <= 0) break;
    changed = false;
    await condition(() => changed || cancelled, wait);
  }

  if (state.status === 'scheduled') {
    await records.recordWindowStatus({ windowId, status: 'open' });
    status.set('open');
    listed = true;
  }

  for (;;) {
    // A cancel accepted at the opening (or during a pass) publishes nothing more.
    if (cancelled) break;
    if (listed) await publish();
    if (cancelled) break;
    const wait = untilMs(closingInstant(state.plan));
    if (wait !== undefined && wait <= 0) break;
    // Open for months with links listed every day: a fresh run carries the state on.
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof linkWindow>(input, state);
    changed = false;
    if (wait === undefined) await condition(() => listed || changed || cancelled);
    else await condition(() => listed || changed || cancelled, wait);
  }

  status.set('closing');
  await records.recordWindowStatus({ windowId, status: 'closing' });
  let outcome: PassOutcome;
  do {
    outcome = await platformPasses.takeDownWindowLinks({ windowId, partner, linkKind });
    show(outcome);
  } while (outcome.remaining > 0 && outcome.calls > 0);
  await records.recordWindowStatus({ windowId, status: 'closed' });
  status.set('closed');
  status.final('closed');
  return state;
}
