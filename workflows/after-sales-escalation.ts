import { proxyActivities } from '@temporalio/workflow';
import type { AfterSalesActivities } from '../activities/after-sales';
import { ErrorType } from '../domain/errors';
import type { AfterSalesEscalationInput, AfterSalesEscalationResult } from './after-sales-escalation.defs';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';

// One activity escalates every overdue ticket, a page per statement, then tells ops, heartbeating
// where it got to. Each page is safe to redo (a ticket escalated once is due again later; a
// notice carries its ticket and level as key), so a retried attempt changes nothing twice.
// Fifteen minutes is the schedule's period: a run still going makes the next one skip.
const scan = proxyActivities<AfterSalesActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.DataRejected] },
});

/**
 * Escalates the after-sales tickets past their handling target (docs/rules.md §5.4) and
 * notifies ops of each escalation once. Started every 15 minutes by its schedule.
 */
export async function afterSalesEscalation(input: AfterSalesEscalationInput = {}): Promise<AfterSalesEscalationResult> {
  // Workflow time (the same on replay and on every retry of the activity).
  return scan.escalateOverdueTickets({ asOf: new Date().toISOString(), pageSize: input.pageSize });
}
