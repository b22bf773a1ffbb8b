import type { ProcessIdentity } from './process';

/** The monthly deposit re-assessment: its workflow type and schedule. */
export const REASSESSMENT_PROCESS = 'deposit-reassessment';
export const REASSESSMENT_WORKFLOW_TYPE = 'depositReassessment';
export const REASSESSMENT_SCHEDULE_ID = 'deposit-reassessment-monthly';
export const reassessmentWorkflowId = (month: string): string => `deposit-reassessment:${month}`;

/** The process as the registry, the API seam and the replay test know it. */
export const depositReassessmentProcess: ProcessIdentity = {
  workflowType: REASSESSMENT_WORKFLOW_TYPE,
  processType: REASSESSMENT_PROCESS,
  workflowId: reassessmentWorkflowId,
  replayPrefix: 'deposit-reassessment-',
  schedules: [
    {
      scheduleId: REASSESSMENT_SCHEDULE_ID,
      // 03:00 on the 1st, Shanghai time.
      spec: { calendars: [{ dayOfMonth: 1, hour: 3, minute: 0 }], timezone: 'Asia/Shanghai' },
      workflowId: 'deposit-reassessment',
      catchupWindow: '1 day',
    },
  ],
};
