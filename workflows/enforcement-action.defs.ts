import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { EnforcementAttention, EnforcementState, RefundProgress } from '../domain/enforcement';
import type { ProcessIdentity } from './process';

/** An enforcement action on a shop (docs/rules.md §5.5): messages, types and ids. */
export const ENFORCEMENT_PROCESS = 'enforcement-action';
export const ENFORCEMENT_WORKFLOW_TYPE = 'enforcementAction';

/** One run per action: the id comes from the action's id. */
export const enforcementWorkflowId = (actionId: string): string => `enforcement:${actionId}`;

/**
 * Refund pages one activity call works through: a pause takes effect within them (10 pages of
 * 500 take about half a second), and fewer calls keep the run's overhead small.
 */
export const PAGES_PER_CALL = 10;
/** Activity calls a run makes before it continues as new, so its history stays small at any shop size. */
export const CALLS_PER_RUN = 200;

export interface EnforcementInput {
  actionId: string;
  shopId: string;
  merchantId: string;
  /** `role:subject` of the maker; the checker must be someone else. */
  openedBy: string;
  pageSize?: number;
  pagesPerCall?: number;
  /** Set on continue-as-new: where the refunds stand. */
  carried?: EnforcementCarried;
}

export interface EnforcementCarried {
  approvedBy: string;
  paused: boolean;
  total: number;
  refunded: number;
  refused: number;
  afterOrderId: string;
}

/** A checker's decision, or ops pausing or resuming; `by` is `role:subject` from the API. */
export interface EnforcementDecision {
  by: string;
}

export interface EnforcementView {
  actionId: string;
  shopId: string;
  state: EnforcementState;
  openedBy: string;
  approvedBy: string | null;
  progress: RefundProgress;
  /** Set while a step the platform refused for good waits for ops (resolveAttention, retry). */
  attention: EnforcementAttention | null;
}

export interface EnforcementResult {
  actionId: string;
  state: Extract<EnforcementState, 'completed' | 'rejected'>;
  refunded: number;
  refused: number;
}

export const approveEnforcementUpdate = defineUpdate<EnforcementView, [EnforcementDecision]>('approve');
export const rejectEnforcementUpdate = defineUpdate<EnforcementView, [EnforcementDecision]>('reject');
export const pauseEnforcementUpdate = defineUpdate<EnforcementView, [EnforcementDecision]>('pause');
export const resumeEnforcementUpdate = defineUpdate<EnforcementView, [EnforcementDecision]>('resume');
export const enforcementStateQuery = defineQuery<EnforcementView>('state');

/** The process as the registry, the API seam and the replay test know it. */
export const enforcementActionProcess: ProcessIdentity = {
  workflowType: ENFORCEMENT_WORKFLOW_TYPE,
  processType: ENFORCEMENT_PROCESS,
  workflowId: enforcementWorkflowId,
  replayPrefix: 'enforcement-action-',
};
