import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { PROCESS_TYPE } from '../workflows/search-attributes';
import { REASSESSMENT_SCHEDULE_ID, REASSESSMENT_WORKFLOW_TYPE } from '../workflows/deposit-reassessment.defs';

/** The spec of the monthly deposit re-assessment: 03:00 on the 1st, Shanghai time. */
export const REASSESSMENT_SCHEDULE_SPEC = {
  calendars: [{ dayOfMonth: 1, hour: 3, minute: 0 }],
  timezone: 'Asia/Shanghai',
};

/**
 * Creates (or brings up to date) the schedules merchant-ops relies on. Overlapping runs
 * are skipped; a run missed while the cluster was down is caught up within a day.
 */
export async function ensureSchedules(client: Client, taskQueue: string): Promise<void> {
  const options = {
    spec: REASSESSMENT_SCHEDULE_SPEC,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' as const },
    action: {
      type: 'startWorkflow' as const,
      workflowType: REASSESSMENT_WORKFLOW_TYPE,
      workflowId: 'deposit-reassessment',
      taskQueue,
      args: [{}],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: 'deposit-reassessment' }],
    },
  };
  try {
    await client.schedule.create({ scheduleId: REASSESSMENT_SCHEDULE_ID, ...options });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(REASSESSMENT_SCHEDULE_ID).update((previous) => ({ ...previous, ...options }));
  }
}
