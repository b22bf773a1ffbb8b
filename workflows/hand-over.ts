import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { processSummary, type HandOver, type ProcessIdentity } from './process';
import { BUSINESS_STATUS, PROCESS_TYPE } from './search-attributes';

/**
 * A scheduled run of a monthly process (monthlyHandOverSchedule) starts its month's process
 * under `process.workflowId(month)`, the id a run started by hand has, with the search
 * attributes the API starts it with, so ops find a month's run in one place whoever started
 * it. A run already going under that id is the month's process: nothing else starts. The
 * process outlives the hand-over (ABANDON); a month done before may run again, as a re-run by
 * hand does. `input` is what the month's run starts with.
 */
export async function handOverScheduledRun(process: ProcessIdentity, month: string, input: Record<string, unknown>): Promise<HandOver> {
  const workflowId = process.workflowId(month);
  try {
    await startChild(process.workflowType, {
      workflowId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: PROCESS_TYPE, value: process.processType },
        { key: BUSINESS_STATUS, value: 'running' },
      ],
      staticSummary: processSummary(process.processType, { period: month }),
    });
    return { workflowId, handedOver: 'started' };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { workflowId, handedOver: 'already_running' };
  }
}
