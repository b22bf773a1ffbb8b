import { defineQuery } from '@temporalio/workflow';
import { monthlyHandOverSchedule, type HandOver, type ProcessIdentity } from './process';

/** Monthly commission settlement (docs/rules.md §3): messages, types and ids. */
export const SETTLEMENT_PROCESS = 'settlement';
export const SETTLEMENT_WORKFLOW_TYPE = 'monthlySettlement';
export const SETTLEMENT_SCHEDULE_ID = 'settlement-monthly';
/** One run per period at a time; a re-run of a settled period finds nothing left to do. */
export const settlementWorkflowId = (period: string): string => `settlement:${period}`;

export interface SettlementInput {
  /** 'YYYY-MM'; by default the natural month before the run (Asia/Shanghai). */
  period?: string;
  /** Where a continued run picks up: the last merchant id already settled. */
  after?: string;
  progress?: SettlementProgress;
  /**
   * Set by the schedule only. Temporal gives a scheduled run an id of its own
   * (`settlement-scheduled-<time>`); such a run settles nothing itself but hands its period to
   * the process under `settlement:<period>`, the id a run started by hand has.
   */
  scheduled?: boolean;
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

export const settlementProgressQuery = defineQuery<SettlementProgress & { period: string; after: string }>('progress');

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
