import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { PROCESS_TYPE } from '../workflows/search-attributes';
import { processSummary, type ProcessIdentity, type ProcessSchedule } from '../workflows/process';
import { PROCESSES } from './registry';

/** Every schedule the registered processes declare, with the process each one starts. */
export function scheduledRuns(processes: readonly ProcessIdentity[] = PROCESSES): Array<{ schedule: ProcessSchedule; processType: string; workflowType: string }> {
  return processes.flatMap((p) => (p.schedules ?? []).map((schedule) => ({ schedule, processType: p.processType, workflowType: p.workflowType })));
}

/**
 * Creates (or brings up to date) the schedules merchant-ops relies on. Overlapping runs
 * are skipped; a run missed while the cluster was down is caught up within its window.
 */
export async function ensureSchedules(client: Client, taskQueue: string, processes: readonly ProcessIdentity[] = PROCESSES): Promise<void> {
  for (const { schedule: s, processType, workflowType } of scheduledRuns(processes)) {
    const options = {
      spec: s.spec,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.catchupWindow },
      action: {
        type: 'startWorkflow' as const,
        workflowType,
        workflowId: s.workflowId,
        taskQueue,
        args: [s.input ?? {}],
        typedSearchAttributes: [{ key: PROCESS_TYPE, value: processType }],
        staticSummary: s.summary ?? processSummary(processType, { note: 'scheduled' }),
      },
    };
    try {
      await client.schedule.create({ scheduleId: s.scheduleId, ...options });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(s.scheduleId).update((previous) => ({ ...previous, ...options }));
    }
  }
}
