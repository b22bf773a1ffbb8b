import type { ProcessIdentity } from './process';

/** The escalation scan of after-sales tickets (docs/rules.md §5.4): names, types and ids. */
export const AFTER_SALES_ESCALATION_PROCESS = 'after-sales-escalation';
export const AFTER_SALES_ESCALATION_WORKFLOW_TYPE = 'afterSalesEscalation';
export const AFTER_SALES_ESCALATION_SCHEDULE_ID = 'after-sales-escalation';
/** One scan at a time over every ticket: there is no key but the scan itself. */
export const afterSalesEscalationWorkflowId = (key: string = 'all'): string => `after-sales-escalation:${key}`;

export interface AfterSalesEscalationInput {
  /** Tickets per statement (500 unless told). */
  pageSize?: number;
}

export interface AfterSalesEscalationResult {
  /** The instant the scan judged by (workflow time, kept in history). */
  asOf: string;
  /** Tickets escalated one level by this run. */
  escalated: number;
  /** Escalation notices sent to ops (this run's and any an earlier run could not send). */
  notified: number;
  /** Notices the platform refused: left for the next scan. */
  refused: number;
}

/** The process as the registry, the API seam and the replay test know it. */
export const afterSalesEscalationProcess: ProcessIdentity = {
  workflowType: AFTER_SALES_ESCALATION_WORKFLOW_TYPE,
  processType: AFTER_SALES_ESCALATION_PROCESS,
  workflowId: afterSalesEscalationWorkflowId,
  replayPrefix: 'after-sales-escalation-',
  schedules: [
    {
      scheduleId: AFTER_SALES_ESCALATION_SCHEDULE_ID,
      // [default] Every 15 minutes: a ticket escalates at most a quarter of an hour after its
      // 48-hour target passes, and a scan of the few overdue tickets costs next to nothing.
      spec: { intervals: [{ every: '15 minutes' }] },
      workflowId: afterSalesEscalationWorkflowId(),
      // Each run judges by its own time and catches up everything overdue: one run after an outage is enough.
      catchupWindow: '5 minutes',
    },
  ],
};
