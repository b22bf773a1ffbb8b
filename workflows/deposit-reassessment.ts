import { proxyActivities } from '@temporalio/workflow';
import type { DepositActivities } from '../activities/deposits';
import { lastNaturalMonth } from '../domain/deposit';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';

// One long activity walks every shop with a heartbeat cursor: a retry resumes where the
// last attempt stopped instead of starting over.
const { reassessShops } = proxyActivities<DepositActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});

export interface ReassessmentInput {
  /** 'YYYY-MM'; by default the last natural month before the run (Asia/Shanghai). */
  month?: string;
}

/**
 * The monthly re-assessment of every open shop's required deposit from its sales in the
 * last natural month (docs/rules.md §2, [src]). Started by a Temporal Schedule on the
 * 1st at 03:00 Asia/Shanghai (worker/schedules.ts); ops can also start it for a month.
 */
export async function depositReassessment(input: ReassessmentInput = {}): Promise<{ month: string; shops: number; changed: number }> {
  const month = input.month ?? lastNaturalMonth(new Date()).month;
  return reassessShops({ month });
}
