import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import { PROCESS_TYPE } from '../workflows/search-attributes';
import { REASSESSMENT_SCHEDULE_ID, REASSESSMENT_WORKFLOW_TYPE } from '../workflows/deposit-reassessment.defs';
import { SETTLEMENT_PROCESS, SETTLEMENT_SCHEDULE_ID, SETTLEMENT_WORKFLOW_TYPE } from '../workflows/settlement.defs';
import { ORDER_IMPORT_PROCESS, ORDER_IMPORT_SCHEDULE_ID, ORDER_IMPORT_WORKFLOW_TYPE, orderImportWorkflowId } from '../workflows/order-import.defs';

/** The monthly deposit re-assessment: 03:00 on the 1st, Shanghai time. */
export const REASSESSMENT_SCHEDULE_SPEC = {
  calendars: [{ dayOfMonth: 1, hour: 3, minute: 0 }],
  timezone: 'Asia/Shanghai',
};

/** Commission settlement: 02:00 on the 20th, Shanghai time ([src] settled on the 20th). */
export const SETTLEMENT_SCHEDULE_SPEC = {
  calendars: [{ dayOfMonth: 20, hour: 2, minute: 0 }],
  timezone: 'Asia/Shanghai',
};

/** The order import: every 5 minutes, so settlement reads orders a few minutes old at most. */
export const ORDER_IMPORT_SCHEDULE_SPEC: ScheduleSpec = {
  intervals: [{ every: '5 minutes' }],
};

interface ScheduleDefinition {
  scheduleId: string;
  spec: ScheduleSpec;
  workflowType: string;
  workflowId: string;
  processType: string;
  /** How late a missed run (the cluster was down) may still be caught up. */
  catchupWindow: '5 minutes' | '1 day' | '7 days';
}

const SCHEDULES: ScheduleDefinition[] = [
  {
    scheduleId: REASSESSMENT_SCHEDULE_ID,
    spec: REASSESSMENT_SCHEDULE_SPEC,
    workflowType: REASSESSMENT_WORKFLOW_TYPE,
    workflowId: 'deposit-reassessment',
    processType: 'deposit-reassessment',
    catchupWindow: '1 day',
  },
  {
    scheduleId: SETTLEMENT_SCHEDULE_ID,
    spec: SETTLEMENT_SCHEDULE_SPEC,
    workflowType: SETTLEMENT_WORKFLOW_TYPE,
    // The run works out its period from its start time; re-runs of a period go through the API.
    workflowId: 'settlement-scheduled',
    processType: SETTLEMENT_PROCESS,
    catchupWindow: '7 days',
  },
  {
    scheduleId: ORDER_IMPORT_SCHEDULE_ID,
    spec: ORDER_IMPORT_SCHEDULE_SPEC,
    workflowType: ORDER_IMPORT_WORKFLOW_TYPE,
    workflowId: orderImportWorkflowId(),
    processType: ORDER_IMPORT_PROCESS,
    // Each run drains the whole feed: after an outage one run catches up, not one per missed slot.
    catchupWindow: '5 minutes',
  },
];

/**
 * Creates (or brings up to date) the schedules merchant-ops relies on. Overlapping runs
 * are skipped; a run missed while the cluster was down is caught up within its window.
 */
export async function ensureSchedules(client: Client, taskQueue: string): Promise<void> {
  for (const s of SCHEDULES) {
    const options = {
      spec: s.spec,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.catchupWindow },
      action: {
        type: 'startWorkflow' as const,
        workflowType: s.workflowType,
        workflowId: s.workflowId,
        taskQueue,
        args: [{}],
        typedSearchAttributes: [{ key: PROCESS_TYPE, value: s.processType }],
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
