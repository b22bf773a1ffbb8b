import { randomBytes } from 'node:crypto';
import { createViolationRepository } from '../../db/repositories/violations';
import type { ViolationLevel, ViolationType } from '../../domain/violations';
import {
  violationStateQuery,
  violationWorkflowId,
  VIOLATION_WORKFLOW_TYPE,
  type ViolationCaseInput,
  type ViolationCaseState,
} from '../../workflows/violation-case.defs';
import { eventually } from './fixtures';
import type { Stack } from './stack';

export const OPENED_BY = 'olga';

/** Records a case and starts its process, as POST /v1/violations does. */
export async function openViolation(
  stack: Stack,
  c: { merchantId: string; shopId: string; type: ViolationType; level: ViolationLevel; productIds?: string[] },
): Promise<ViolationCaseInput> {
  // The same shape as the API's ids, so a case opened here can be driven over HTTP too.
  const caseId = `vio_${randomBytes(12).toString('hex')}`;
  const input: ViolationCaseInput = {
    caseId,
    merchantId: c.merchantId,
    shopId: c.shopId,
    type: c.type,
    reportedLevel: c.level,
    evidence: { summary: 'cited by ops', productIds: c.productIds ?? [] },
    openedBy: OPENED_BY,
  };
  await createViolationRepository(stack.db).insert({
    id: caseId,
    merchantId: c.merchantId,
    shopId: c.shopId,
    type: c.type,
    level: c.level,
    evidence: input.evidence,
    openedBy: OPENED_BY,
    openedAt: new Date(await stack.env.currentTimeMs()),
    workflowId: violationWorkflowId(caseId),
  });
  await stack.env.client.workflow.start(VIOLATION_WORKFLOW_TYPE, {
    workflowId: violationWorkflowId(caseId),
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    args: [input],
  });
  return input;
}

export const caseHandle = (stack: Stack, caseId: string) => stack.env.client.workflow.getHandle(violationWorkflowId(caseId));

export function caseState(stack: Stack, caseId: string, done: (s: ViolationCaseState) => boolean = () => true): Promise<ViolationCaseState> {
  return eventually(() => caseHandle(stack, caseId).query(violationStateQuery), done);
}
