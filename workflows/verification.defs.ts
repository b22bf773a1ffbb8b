import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EntityType } from '../domain/verification';
import type { Attention } from './attention.defs';
import type { ProcessIdentity } from './process';

/** Entity verification review (docs/rules.md §1): messages, types and ids. */
export const VERIFICATION_PROCESS = 'verification';

/** One open review per merchant: the id comes from the business key, not the case. */
export const verificationWorkflowId = (merchantId: string): string => `verification:${merchantId}`;

/**
 * `needs_attention`: a step failed for good and the case waits for ops (see attention.defs.ts);
 * `closed_by_ops`: ops abandoned such a case, so the merchant may file again.
 */
export type VerificationStatus =
  | 'in_review'
  | 'awaiting_resubmission'
  | 'approved'
  | 'rejected'
  | 'abandoned'
  | 'needs_attention'
  | 'closed_by_ops';

/** No personal data travels in workflow history: it stays encrypted in the database. */
export interface VerificationInput {
  caseId: string;
  merchantId: string;
  entityType: EntityType;
  submittedAt: string;
  /** `role:subject` of whoever submitted, for the case history. */
  submittedBy?: string;
}

export type DecisionKind = 'approve' | 'reject' | 'request_info';

export interface ReviewDecision {
  decision: DecisionKind;
  /** Why: required to reject or to request information. */
  reasons: string[];
  reviewer: string;
}

export interface Resubmission {
  submissionSeq: number;
  submittedAt: string;
  by: string;
}

export interface CaseHistoryEntry {
  seq: number;
  type: string;
  actor: string;
  at: string;
  details: Record<string, unknown>;
}

export interface VerificationState {
  caseId: string;
  merchantId: string;
  status: VerificationStatus;
  deadline: string | null;
  overdue: boolean;
  resubmitBy: string | null;
  history: CaseHistoryEntry[];
  /** Set while a step that failed for good waits for ops; absent in older runs. */
  attention?: Attention | null;
}

export interface VerificationResult {
  status: Extract<VerificationStatus, 'approved' | 'rejected' | 'abandoned' | 'closed_by_ops'>;
  shopId?: string;
}

export const decideUpdate = defineUpdate<VerificationState, [ReviewDecision]>('decide');
export const resubmitUpdate = defineUpdate<VerificationState, [Resubmission]>('resubmit');
export const verificationStateQuery = defineQuery<VerificationState>('state');
/** Official calendar data was loaded: a provisional review deadline is counted again. */
export const reviewCalendarUpdatedSignal = defineSignal('calendarUpdated');

/** The workflow's registered name; the API starts it by name, never importing its code. */
export const VERIFICATION_WORKFLOW_TYPE = 'verificationReview';

/** The process as the registry, the API seam and the replay test know it. */
export const verificationProcess: ProcessIdentity = {
  workflowType: VERIFICATION_WORKFLOW_TYPE,
  processType: VERIFICATION_PROCESS,
  workflowId: verificationWorkflowId,
  replayPrefix: 'verification-',
};
