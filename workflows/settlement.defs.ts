import { defineQuery } from '@temporalio/workflow';

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
