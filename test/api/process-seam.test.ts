import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runUpdate, UpdateStillRunning } from '../../api/process-seam';
import { decideUpdate, VERIFICATION_WORKFLOW_TYPE, verificationStateQuery } from '../../workflows/verification.defs';
import { startTimeSkippingEnv } from '../support/temporal';

/** No worker polls this queue: the process can neither take an update in nor answer a query. */
const NOBODY_LISTENS = 'nobody-listens';

describe('runUpdate answers in bounded time', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await startTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('a process that never takes the update in: 202 with no state and accepted false, instead of a hanging request', async () => {
    const handle = await env.client.workflow.start(VERIFICATION_WORKFLOW_TYPE, {
      workflowId: 'verification:m-no-worker',
      taskQueue: NOBODY_LISTENS,
      args: [{ caseId: 'vc_x', merchantId: 'm-no-worker', entityType: 'individual', submittedAt: new Date().toISOString() }],
    });
    const answer = await runUpdate(handle, {
      update: decideUpdate,
      args: [{ decision: 'approve', reasons: [], reviewer: 'reviewer:rui' }],
      stateQuery: verificationStateQuery,
      waitMs: 300,
      what: 'the decision on case vc_x',
      whenEnded: 'case vc_x is closed',
    }).catch((err: unknown) => err);
    expect(answer).toBeInstanceOf(UpdateStillRunning);
    expect(answer).toMatchObject({ status: 202, accepted: false, extra: { state: null, accepted: false } });
    expect((answer as Error).message).toBe('the decision on case vc_x is waiting for the process to take it; this is where it stands now');
    await handle.terminate('test over');
  });
});
