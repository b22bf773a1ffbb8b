import type { QualificationCheckCounts } from '../domain/qualifications';
import { monthlyHandOverSchedule, type HandOver, type ProcessIdentity } from './process';

/** The monthly qualification self-check (docs/rules.md): names, types and ids. */
export const QUALIFICATION_CHECK_PROCESS = 'qualification-check';
export const QUALIFICATION_CHECK_WORKFLOW_TYPE = 'qualificationCheck';
export const QUALIFICATION_CHECK_SCHEDULE_ID = 'qualification-check-monthly';
/** One check per month: a second start for the month joins the run going (or re-checks a finished month). */
export const qualificationCheckWorkflowId = (month: string): string => `qualification-check:${month}`;

export interface QualificationCheckInput {
  /** 'YYYY-MM'; by default the Shanghai month the run starts in. */
  month?: string;
  /** Qualifications per page (500 unless told). */
  pageSize?: number;
  /**
   * Set by the schedule only: Temporal gives a scheduled run an id of its own, so such a run
   * checks nothing itself but hands its month to `qualification-check:<month>`, the id a run
   * started by hand has.
   */
  scheduled?: boolean;
}

/** What a run that checked its month answers: the day it judged by and what it counted. */
export interface QualificationCheckResult extends QualificationCheckCounts {
  month: string;
  /** The Shanghai day the check judged by. */
  checkedOn: string;
}

/** What a scheduled run answers: which run checks its month, and whether it started it. */
export interface QualificationCheckHandOver extends HandOver {
  month: string;
}

/** The process as the registry, the API seam and the replay test know it. */
export const qualificationCheckProcess: ProcessIdentity = {
  workflowType: QUALIFICATION_CHECK_WORKFLOW_TYPE,
  processType: QUALIFICATION_CHECK_PROCESS,
  workflowId: qualificationCheckWorkflowId,
  replayPrefix: 'qualification-check-',
  schedules: [
    // [default] 04:00 on the 1st, Shanghai time: after the 03:00 deposit reassessment, in the
    // night's quiet hours, and a month before anything the 30-day notice names expires. A
    // missed run is made within the week: expiries do not wait.
    monthlyHandOverSchedule({
      scheduleId: QUALIFICATION_CHECK_SCHEDULE_ID,
      dayOfMonth: 1,
      hour: 4,
      workflowId: 'qualification-check-scheduled',
      summary: 'qualification-check · scheduled: starts qualification-check:<the month> and ends',
    }),
  ],
};
