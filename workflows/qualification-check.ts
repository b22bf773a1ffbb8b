import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { QualificationActivities } from '../activities/qualifications';
import { shanghaiDate } from '../domain/shanghai-time';
import { ErrorType } from '../domain/errors';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { businessStatus } from './business-status';
import { handOverScheduledRun } from './hand-over';
import { qualificationCheckProcess, type QualificationCheckHandOver, type QualificationCheckInput, type QualificationCheckResult } from './qualification-check.defs';

// One activity pages through the qualifications due, heartbeating its position and counts, so
// a retried attempt reads on from the last page. Each finding is idempotent on its own
// (a notice per key, a case per reference), so a page done twice changes nothing. An hour
// covers every merchant's licences; the schedule's next run is a month away.
const check = proxyActivities<QualificationActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

/**
 * The monthly self-check of merchants' licences: a qualification expiring within 30 days
 * notifies its merchant once; an expired one opens a qualification-mismatch case once (its
 * process closes the shop's API permission for good).
 */
export async function qualificationCheck(input: QualificationCheckInput = {}): Promise<QualificationCheckResult | QualificationCheckHandOver> {
  // Workflow time (the same on replay): the Shanghai month the run is in.
  const month = input.month ?? shanghaiDate(new Date()).slice(0, 7);
  if (input.scheduled) return { month, ...(await handOverScheduledRun(qualificationCheckProcess, month, { month })) };
  const status = businessStatus<'running' | 'completed'>();
  const result = await check.checkQualifications({ month, workflowId: workflowInfo().workflowId, asOf: new Date().toISOString(), pageSize: input.pageSize });
  status.final('completed');
  return result;
}
