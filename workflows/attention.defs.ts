import { defineUpdate } from '@temporalio/workflow';

/**
 * A process whose step failed for good (the database refused its data) stops in
 * `needs_attention` and waits for ops, instead of retrying for ever. Shared by every
 * process that takes free text.
 */
export const NEEDS_ATTENTION = 'needs_attention';

export interface Attention {
  /** The step that failed, e.g. `record rejected` or `record appeal_filed`. */
  step: string;
  /** The failure's own message: names the step and the SQLSTATE, never the SQL or the value. */
  error: string;
  errorType: string | null;
  since: string;
  /** The status the process had when the step failed. */
  statusBefore: string;
  /** Whether ops may abandon (the process says what that means) as well as retry. */
  abandonable: boolean;
}

export type AttentionAction = 'retry' | 'abandon';

export interface AttentionResolution {
  action: AttentionAction;
  /** `role:subject` of whoever resolved it. */
  actor: string;
  note?: string;
}

export interface AttentionOutcome {
  action: AttentionAction;
  step: string;
}

/** Ops answer a process in `needs_attention`: run the failed step again, or abandon it. */
export const resolveAttentionUpdate = defineUpdate<AttentionOutcome, [AttentionResolution]>('resolveAttention');
