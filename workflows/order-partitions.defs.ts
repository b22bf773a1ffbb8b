import type { ProcessIdentity } from './process';

/** The monthly partitions of `orders` made ahead (migration 030): names, types and ids. */
export const ORDER_PARTITIONS_PROCESS = 'order-partitions';
export const ORDER_PARTITIONS_WORKFLOW_TYPE = 'orderPartitions';
export const ORDER_PARTITIONS_SCHEDULE_ID = 'order-partitions';
/** One run at a time over the one `orders` table. */
export const orderPartitionsWorkflowId = (key: string = 'orders'): string => `order-partitions:${key}`;

export interface OrderPartitionsInput {
  /** Months after the current Shanghai month whose partitions must exist (3 unless told, 0 to 24). */
  monthsAhead?: number;
}

/** What the activity gets: the workflow's instant, so a retry makes the same months. */
export interface EnsurePartitionsStep {
  asOf: string;
  monthsAhead: number;
}

export interface OrderPartitionsResult {
  asOf: string;
  /** 'YYYY-MM': the current Shanghai month, and the last one made sure of. */
  from: string;
  through: string;
  /** The months whose partitions this run created, oldest first; none when all were there. */
  created: string[];
}

/** The process as the registry, the API seam and the replay test know it. */
export const orderPartitionsProcess: ProcessIdentity = {
  workflowType: ORDER_PARTITIONS_WORKFLOW_TYPE,
  processType: ORDER_PARTITIONS_PROCESS,
  workflowId: orderPartitionsWorkflowId,
  replayPrefix: 'order-partitions-',
  schedules: [
    {
      scheduleId: ORDER_PARTITIONS_SCHEDULE_ID,
      // 03:00 on the 1st, Shanghai time: with 3 months ahead, each month's partition exists
      // about two months before its first order, so a missed run or two costs nothing, and a
      // run at any other time creates only what is missing.
      spec: { calendars: [{ dayOfMonth: 1, hour: 3, minute: 0 }], timezone: 'Asia/Shanghai' },
      workflowId: orderPartitionsWorkflowId(),
      catchupWindow: '7 days',
    },
  ],
};
