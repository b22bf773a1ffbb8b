import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BindingPlatform, BindingRefusal } from '../domain/partner-binding';
import type { Attention } from './attention.defs';
import type { ProcessIdentity } from './process';

/** Binding an outside store to a Kuaishou shop (docs/rules.md §5.1): messages, types and ids. */
export const STORE_BINDING_PROCESS = 'store-binding';
export const STORE_BINDING_WORKFLOW_TYPE = 'storeBinding';
/** One process per store: a store is bound to one shop at a time. */
export const storeBindingWorkflowId = (key: string): string => `binding:${key}`;
export const bindingWorkflowIdOf = (platform: BindingPlatform, storeId: string): string => storeBindingWorkflowId(`${platform}:${storeId}`);

/**
 * authorising (waiting for the union authorisation or the OAuth callback) → bound → (Youzan:
 * refreshed on its own timer) → needs_reauth when a refresh is refused or fails → bound again
 * once re-authorised; unbound by the merchant or by enforcement; refused when the
 * authorisation never came.
 */
export type StoreBindingStatus = 'authorising' | 'bound' | 'needs_reauth' | 'unbound' | 'refused';

export interface StoreBindingInput {
  /** The store_bindings row (`bnd_…`): the binding's business key in the API. */
  bindingId: string;
  merchantId: string;
  shopId: string;
  platform: BindingPlatform;
  storeId: string;
  requestedBy: string;
  /** Continue as new once the history is this long (tests); otherwise when the server suggests it. */
  historyLimit?: number;
  /** Carried over by continue-as-new; absent on a first run. */
  resume?: StoreBindingResume;
}

/** A Youzan grant as the process knows it: ids of sealed secrets and instants on its own clock. */
export interface GrantState {
  refreshSecretId: string;
  level: 'basic' | 'advanced' | 'custom';
  accessExpiresAt: string;
  refreshExpiresAt: string;
  /** When the process refreshes it (refresh lead before the access token expires). */
  refreshAt: string;
  refreshedTimes: number;
}

/** The whole state, carried over by continue-as-new (it holds no secret: only ids of sealed ones). */
export type StoreBindingResume = Omit<StoreBindingState, 'bindingId' | 'platform' | 'storeId'>;

export interface StoreBindingState {
  bindingId: string;
  platform: BindingPlatform;
  storeId: string;
  status: StoreBindingStatus;
  grant: GrantState | null;
  /** The last refusal a check gave (the binding stays authorising so it can be fixed). */
  lastRefusal: BindingRefusal | null;
  /** Why it needs authorising again: 'revoked' or 'refresh_failed'. */
  reauthReason: string | null;
  unboundBy: 'merchant' | 'enforcement' | null;
  /** A partner step that gave up (retries spent): ops see it; the binding keeps waiting for a new authorisation. */
  attention: Attention | null;
}

/** Every message names the binding it is for: the validator refuses one meant for an earlier binding of the store. */
export interface UnionAuthorisationRequest {
  bindingId: string;
  actor: string;
}

/** The OAuth callback's code, sealed in the vault by the API: only its id travels. */
export interface OAuthCallbackRequest {
  bindingId: string;
  codeSecretId: string;
  actor: string;
}

export interface UnbindRequest {
  bindingId: string;
  by: 'merchant' | 'enforcement';
  actor: string;
  reason: string;
}

/** What exchanging or refreshing gave: secrets by id, lifetimes in seconds, and the configured lead. */
export interface GrantReceived {
  refreshSecretId: string;
  level: 'basic' | 'advanced' | 'custom';
  accessExpiresInSeconds: number;
  refreshExpiresInSeconds: number;
  refreshLeadSeconds: number;
}

export const bindingStateQuery = defineQuery<StoreBindingState>('state');
export const unionAuthorisationUpdate = defineUpdate<StoreBindingState, [UnionAuthorisationRequest]>('completeUnionAuthorisation');
export const oauthCallbackUpdate = defineUpdate<StoreBindingState, [OAuthCallbackRequest]>('completeOAuth');
export const unbindUpdate = defineUpdate<StoreBindingState, [UnbindRequest]>('unbind');
/** Enforcement's unbinding (activities/violations.ts): no answer awaited, the row says it already. */
export const unbindSignal = defineSignal<[UnbindRequest]>('unbind');

/** The process as the registry, the API seam and the replay test know it. */
export const storeBindingProcess: ProcessIdentity = {
  workflowType: STORE_BINDING_WORKFLOW_TYPE,
  processType: STORE_BINDING_PROCESS,
  workflowId: storeBindingWorkflowId,
  replayPrefix: 'store-binding-',
};
