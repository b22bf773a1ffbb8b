/** The monthly deposit re-assessment: its workflow type and schedule. */
export const REASSESSMENT_WORKFLOW_TYPE = 'depositReassessment';
export const REASSESSMENT_SCHEDULE_ID = 'deposit-reassessment-monthly';
export const reassessmentWorkflowId = (month: string): string => `deposit-reassessment:${month}`;
