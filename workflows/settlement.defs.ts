import { defineQuery } from '@temporalio/workflow';
import { monthlyHandOverSchedule, type HandOver, type ProcessIdentity } from './process';

/** Monthly commission settlement (docs/rules.md §3): messages, types and ids. */
export const SETTLEMENT_PROCESS = 'settlement';
export const SETTLEMENT_WORKFLOW_TYPE = 'monthlySettlement';
export const SETTLEMENT_SCHEDULE_ID = 'settlement-monthly';
/** One run per period at a time; a re-run of a settled period finds nothing left to do. */
export const settlementWorkflowId = (period: string): string => `settlement:${period}`;

/**
 * Lanes a run settles at once unless told otherwise: two statements in flight keep both of a
 * 2-core database busy (measured: 1M orders 26.7 s in one lane, 20.3 s in two). A run's
 * commands depend on it (one lane schedules no `settlementLanes`): change it behind a patch.
 */
export const SETTLEMENT_DEFAULT_LANES = 2;

export interface SettlementInput {
  /** 'YYYY-MM'; by default the natural month before the run (Asia/Shanghai). */
  period?: string;
  /** Where a continued run picks up: the last merchant id already settled. */
  after?: string;
  progress?: SettlementProgress;
  /**
   * How many lanes settle the period at once (default SETTLEMENT_DEFAULT_LANES, at most 16; fewer where there are
   * few merchants): disjoint shares of the merchant ids, each a chain of batches that any
   * worker on the task queue may run.
   */
  lanes?: number;
  /** Where a continued run of lanes picks up: every lane's share and cursor. */
  laneCursors?: SettlementLaneCursor[];
  /**
   * Set by the schedule only. Temporal gives a scheduled run an id of its own
   * (`settlement-scheduled-<time>`); such a run settles nothing itself but hands its period to
   * the process under `settlement:<period>`, the id a run started by hand has.
   */
  scheduled?: boolean;
}

/** A lane: merchant ids in (after, upTo] still to settle (upTo null: no end), `after` moving on. */
export interface SettlementLaneCursor {
  after: string;
  upTo: string | null;
  done: boolean;
}

/** What a scheduled run answers: which process settles its period, and whether it started it. */
export interface SettlementHandOver extends HandOver {
  period: string;
}

export interface SettlementProgress {
  /** Statements this run created (a re-run of a settled period creates none). */
  statements: number;
  payouts: number;
  missingRate: Array<{ merchantId: string; category: string }>;
  merchantsDone?: number;
  totals?: Record<string, number>;
}

export interface SettlementResult extends SettlementProgress {
  period: string;
  /** True when the period had been settled before and this run found nothing to add. */
  alreadySettled: boolean;
}

export const settlementProgressQuery = defineQuery<SettlementProgress & { period: string; after: string; lanes?: SettlementLaneCursor[] }>('progress');

/** The process as the registry, the API seam and the replay test know it. */
export const monthlySettlementProcess: ProcessIdentity = {
  workflowType: SETTLEMENT_WORKFLOW_TYPE,
  processType: SETTLEMENT_PROCESS,
  workflowId: settlementWorkflowId,
  replayPrefix: 'monthly-settlement-',
  schedules: [
    // 02:00 on the 20th, Shanghai time (docs/rules.md §3: settled on the 20th). The run works
    // out its period from its start time and hands it to settlement:<period>.
    monthlyHandOverSchedule({
      scheduleId: SETTLEMENT_SCHEDULE_ID,
      dayOfMonth: 20,
      hour: 2,
      workflowId: 'settlement-scheduled',
      summary: 'settlement · scheduled: starts settlement:<the month before> and ends',
    }),
  ],
};
