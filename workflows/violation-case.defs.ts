import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PenaltyPlan, ViolationLevel, ViolationType } from '../domain/violations';
import type { Attention } from './attention.defs';
import type { ProcessIdentity } from './process';

/** Violation case (docs/rules.md §4): one process per case, from penalty to expiry. */
export const VIOLATION_PROCESS = 'violation';
export const VIOLATION_WORKFLOW_TYPE = 'violationCase';
export const violationWorkflowId = (caseId: string): string => `violation:${caseId}`;

/**
 * opening → appealable (inside the window) → in_effect (window passed, or appeal
 * rejected) → expired (effect period over); appealed while an appeal waits; reversed by an
 * upheld appeal; permanent for a ban (no appeal, no expiry).
 */
export type ViolationStatus = 'opening' | 'appealable' | 'appealed' | 'in_effect' | 'permanent' | 'expired' | 'reversed';

export interface ViolationEvidence {
  /** What ops saw, in words; never personal data. */
  summary: string;
  /** Products cited: a general penalty delists them. */
  productIds: string[];
}

export interface ViolationCaseInput {
  caseId: string;
  merchantId: string;
  shopId: string;
  type: ViolationType;
  reportedLevel: ViolationLevel;
  evidence: ViolationEvidence;
  openedBy: string;
}

export interface AppealRequest {
  statement: string;
  actor: string;
}

export interface AppealDecisionRequest {
  decision: 'upheld' | 'rejected';
  reasons: string[];
  reviewer: string;
}

export interface AppealState {
  filedAt: string;
  statement: string;
  filedBy: string;
  decision: AppealDecisionRequest['decision'] | null;
  decidedBy: string | null;
  decidedAt: string | null;
  reasons: string[];
}

/** What openCase decided, from the shop's record at the time. */
export interface CaseDecision {
  level: ViolationLevel;
  escalatedBecause: 'repeat_in_effect' | 'year_points' | null;
  penalty: PenaltyPlan;
  appealDeadline: string | null;
  /** The window counted days of a year without official calendar data; absent in older runs. */
  appealDeadlineProvisional?: boolean;
  effectEndsAt: string | null;
}

export interface ViolationCaseState {
  caseId: string;
  merchantId: string;
  shopId: string;
  type: ViolationType;
  reportedLevel: ViolationLevel;
  status: ViolationStatus;
  decision: CaseDecision | null;
  appeal: AppealState | null;
  suspensionLifted: boolean;
  /** Set while a step that failed for good waits for ops; absent in older runs. */
  attention?: Attention | null;
}

export const appealUpdate = defineUpdate<ViolationCaseState, [AppealRequest]>('appeal');
export const decideAppealUpdate = defineUpdate<ViolationCaseState, [AppealDecisionRequest]>('decideAppeal');
export const violationStateQuery = defineQuery<ViolationCaseState>('state');
/** Official calendar data was loaded: a provisional appeal window is counted again. */
export const calendarUpdatedSignal = defineSignal('calendarUpdated');

/** The process as the registry, the API seam and the replay test know it. */
export const violationCaseProcess: ProcessIdentity = {
  workflowType: VIOLATION_WORKFLOW_TYPE,
  processType: VIOLATION_PROCESS,
  workflowId: violationWorkflowId,
  replayPrefix: 'violation-case-',
};
