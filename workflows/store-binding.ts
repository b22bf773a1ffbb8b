import {
  allHandlersFinished,
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LinkWindowActivities } from '../activities/link-windows';
import type { StoreBindingActivities } from '../activities/store-binding';
import { ErrorType } from '../domain/errors';
import { AUTHORISATION_WAIT_SECONDS, refreshDelaySeconds } from '../domain/partner-binding';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { attentionGate, attentionOnState, gated } from './attention';
import { businessStatus } from './business-status';
import {
  bindingStateQuery,
  oauthCallbackUpdate,
  unbindSignal,
  unbindUpdate,
  unionAuthorisationUpdate,
  type GrantReceived,
  type GrantState,
  type StoreBindingInput,
  type StoreBindingState,
  type UnbindRequest,
} from './store-binding.defs';

const FINAL_TYPES = [ErrorType.BindingRefused, ErrorType.PartnerAuthorisationRevoked, ErrorType.PlatformRejected, ErrorType.RecordNotFound];
// The vault and the row: an outage is retried until it passes (the process's own bookkeeping).
const act = proxyActivities<StoreBindingActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: FINAL_TYPES },
});
// Partner checks a merchant waits on: an outage is retried for a bounded while, then the step
// gives up, says so to ops, and the binding keeps waiting for the merchant to try again.
const partnerActs = proxyActivities<StoreBindingActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: FINAL_TYPES },
});

// The store's outside links coming down at the unbinding: retried through outages; a platform
// refusal waits for ops (a live link must come down, so it is never abandoned).
const linkActs = proxyActivities<LinkWindowActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.DataRejected, ErrorType.PlatformRefusalNeedsOps] },
});

const now = () => new Date().toISOString();
const at = (ms: number) => new Date(ms).toISOString();

/** The failure type of an activity's failure, if it is an ApplicationFailure. */
const failureType = (err: unknown): string | undefined =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;

/**
 * One store bound to a Kuaishou shop (docs/rules.md §5.1). The API checked the merchant's
 * entity and the ids' shapes before it started; here the partner's authorisation is
 * completed (the union's record, or Youzan's OAuth code), a Youzan grant is refreshed on this
 * process's own timer ahead of its expiry, and a refused or failed refresh stops the store's
 * sync until the merchant authorises again. Unbinding ends the run and its timers. Secrets
 * never pass through here: only the ids of sealed secrets.
 */
export async function storeBinding(input: StoreBindingInput): Promise<StoreBindingState> {
  const { bindingId } = input;
  const state: StoreBindingState = {
    bindingId,
    platform: input.platform,
    storeId: input.storeId,
    status: 'authorising',
    grant: null,
    lastRefusal: null,
    reauthReason: null,
    unboundBy: null,
    attention: null,
    ...input.resume,
  };
  const status = businessStatus(state);
  const gate = attentionGate(() => state.status, attentionOnState(state, status));
  const linkTakeDowns = gated(linkActs, gate);
  const runId = workflowInfo().runId;
  // Bumped whenever the grant changes, so the refresh timer is set again.
  let generation = 0;

  const bound = async (grant?: GrantReceived) => {
    if (grant) {
      const t = Date.now();
      const access = t + grant.accessExpiresInSeconds * 1000;
      const refresh = t + grant.refreshExpiresInSeconds * 1000;
      state.grant = {
        refreshSecretId: grant.refreshSecretId,
        level: grant.level,
        accessExpiresAt: at(access),
        refreshExpiresAt: at(refresh),
        refreshAt: at(t + refreshDelaySeconds(grant, grant.refreshLeadSeconds) * 1000),
        refreshedTimes: state.grant?.refreshedTimes ?? 0,
      };
      generation += 1;
    }
    const g = state.grant;
    await act.recordBindingBound({ bindingId, runId, asOf: now(), ...(g ? { level: g.level, accessExpiresAt: g.accessExpiresAt, refreshExpiresAt: g.refreshExpiresAt } : {}) });
    state.lastRefusal = null;
    state.reauthReason = null;
    state.attention = null;
    status.set('bound');
  };

  let unbinding: Promise<void> | null = null;
  const unbind = (req: UnbindRequest) => {
    unbinding ??= (async () => {
      state.unboundBy = req.by;
      generation += 1;
      await act.endBinding({ ...req, bindingId, asOf: now() });
      // After the row says unbound: from then on no window puts this store's links live again.
      await linkTakeDowns.takeDownBindingLinks({ bindingId, reason: `store-binding:${bindingId} unbound` });
      status.set('unbound');
    })();
    return unbinding;
  };
  const live = () => state.status !== 'unbound' && state.status !== 'refused' && unbinding === null;

  /** A message for an earlier (or later) binding of the same store is not this run's to act on. */
  const mustBeThisBinding = (req: { bindingId: string }) => {
    if (req.bindingId !== bindingId) throw new Error(`this binding has ended: the store's current binding is not ${req.bindingId}`);
  };

  /**
   * A partner step the merchant waits on. When its retries are spent (an outage that did not
   * pass), ops are told through the state and BusinessStatus `needs_attention`; the update
   * fails, and the binding keeps waiting for the merchant to try again (or expires as refused).
   */
  const partnerStep = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    try {
      const done = await work();
      if (state.attention) {
        state.attention = null;
        status.resume();
      }
      return done;
    } catch (err) {
      const type = failureType(err);
      if (err instanceof ActivityFailure && (type === undefined || !(FINAL_TYPES as string[]).includes(type))) {
        state.attention = { step, error: `${step} gave up: the partner did not answer in time`, errorType: type ?? null, since: now(), statusBefore: state.status, abandonable: false };
        status.needsAttention();
      }
      throw err;
    }
  };

  setHandler(bindingStateQuery, () => state);
  setHandler(
    unionAuthorisationUpdate,
    async (_req) => {
      const { refusal } = await partnerStep('checkUnionAuthorisation', () => partnerActs.checkUnionAuthorisation({ bindingId }));
      if (refusal) {
        state.lastRefusal = refusal;
        throw ApplicationFailure.create({ message: refusal.message, type: ErrorType.BindingRefused, nonRetryable: true, details: [refusal] });
      }
      if (live()) await bound();
      return state;
    },
    {
      validator: (req) => {
        mustBeThisBinding(req);
        if (input.platform === 'youzan') throw new Error('a Youzan store is authorised through OAuth');
        if (state.status !== 'authorising' || !live()) throw new Error(`binding ${bindingId} is ${state.status}: nothing to authorise`);
      },
    },
  );
  setHandler(
    oauthCallbackUpdate,
    async (req) => {
      const grant = await partnerStep('exchangeYouzanCode', () => partnerActs.exchangeYouzanCode({ bindingId, codeSecretId: req.codeSecretId }));
      if (live()) await bound(grant);
      return state;
    },
    {
      validator: (req) => {
        mustBeThisBinding(req);
        if (input.platform !== 'youzan') throw new Error('only a Youzan store is authorised through OAuth');
        if (!live() || state.status === 'bound') throw new Error(`binding ${bindingId} is ${state.status}: nothing to authorise`);
      },
    },
  );
  setHandler(
    unbindUpdate,
    async (req) => {
      await unbind(req);
      return state;
    },
    {
      validator: (req) => {
        mustBeThisBinding(req);
        if (!live()) throw new Error(`binding ${bindingId} is ${state.status}`);
      },
    },
  );
  setHandler(unbindSignal, (req) => {
    if (live() && req.bindingId === bindingId) void unbind(req);
  });

  if (state.status === 'authorising') {
    const authorised = await condition(() => state.status !== 'authorising' || unbinding !== null, AUTHORISATION_WAIT_SECONDS * 1000);
    if (!authorised) {
      await act.recordAuthorisationExpired({ bindingId });
      status.set('refused');
    }
  }

  while (live()) {
    const g = state.grant;
    const seen = generation;
    if (state.status === 'bound' && input.platform === 'youzan' && g) {
      const wait = Math.max(1, Date.parse(g.refreshAt) - Date.now());
      if (await condition(() => generation !== seen || !live(), wait)) continue;
      await refresh(g);
    } else {
      const before = state.status;
      await condition(() => state.status !== before || generation !== seen || !live());
    }
    const info = workflowInfo();
    if ((info.continueAsNewSuggested || (input.historyLimit !== undefined && info.historyLength >= input.historyLimit)) && live()) {
      await condition(allHandlersFinished);
      if (live()) {
        const { bindingId: _id, platform: _p, storeId: _s, ...resume } = state;
        await continueAsNew<typeof storeBinding>({ ...input, resume });
      }
    }
  }

  if (unbinding) await unbinding;
  await condition(allHandlersFinished);
  status.final(state.status);
  return state;

  async function refresh(g: GrantState) {
    // A refresh that keeps failing is given until the access token expires: after that, sync
    // cannot go on anyway, and the merchant is asked to authorise again.
    const left = Math.max(60_000, Date.parse(g.accessExpiresAt) - Date.now());
    const refresher = proxyActivities<StoreBindingActivities>({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: left,
      retry: { initialInterval: '30 seconds', maximumInterval: '1 hour', nonRetryableErrorTypes: [ErrorType.PartnerAuthorisationRevoked, ErrorType.PlatformRejected, ErrorType.BindingRefused] },
    });
    try {
      const grant = await refresher.refreshYouzanToken({ bindingId, refreshSecretId: g.refreshSecretId });
      if (!live()) return;
      state.grant = { ...g, refreshedTimes: g.refreshedTimes + 1 };
      await bound(grant);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      if (!live()) return;
      const reason = failureType(err) === ErrorType.PartnerAuthorisationRevoked ? 'revoked' : 'refresh_failed';
      state.grant = null;
      state.reauthReason = reason;
      generation += 1;
      await act.markNeedsReauth({ bindingId, reason, asOf: now() });
      status.set('needs_reauth');
    }
  }
}
