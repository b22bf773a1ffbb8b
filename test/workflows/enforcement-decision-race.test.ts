import { randomBytes } from 'node:crypto';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createEnforcementRepository } from '../../db/repositories/enforcement';
import { createActivities, activityDepsFrom } from '../../worker/dependencies';
import { approveEnforcementUpdate, ENFORCEMENT_WORKFLOW_TYPE, enforcementWorkflowId, rejectEnforcementUpdate, type EnforcementResult } from '../../workflows/enforcement-action.defs';
import { seedEnforcedShop } from '../support/enforcement';
import { startStack, type Stack } from '../support/stack';
import { workflowBundle } from '../support/temporal';

/**
 * Approve and reject sent at once: exactly one decides, and the other is refused. The process
 * is started on a queue no worker polls, so both updates wait at the server and reach the
 * process in one workflow task, whatever the machine's speed.
 */
describe('enforcement action: approve and reject race', () => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack();
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  type Answer = { ok: true; v: unknown } | { ok: false; e: unknown };
  type Decision = { update: typeof approveEnforcementUpdate | typeof rejectEnforcementUpdate; by: string };

  /** One action on a fresh shop, the decisions sent at once before any worker polls; their answers and the result. */
  async function decideAtOnce(n: number, decisions: readonly Decision[]): Promise<{ answers: Answer[]; result: EnforcementResult; rowState: string | undefined }> {
    const shop = { shopId: `shop-enf-race-${n}`, merchantId: `m-enf-race-${n}` };
    await seedEnforcedShop(stack.db, shop, 3);
    const actionId = `enf_00000000000000000000ace${n}`;
    await createEnforcementRepository(stack.db).insertAction({ id: actionId, shop_id: shop.shopId, merchant_id: shop.merchantId, reason: 'fraudulent_sales', evidence: 'orders paid from one account', opened_by: 'olga', workflow_id: enforcementWorkflowId(actionId) });
    const taskQueue = `enf-race-${randomBytes(4).toString('hex')}`;
    const handle = await client.workflow.start(ENFORCEMENT_WORKFLOW_TYPE, {
      workflowId: enforcementWorkflowId(actionId),
      taskQueue,
      args: [{ actionId, shopId: shop.shopId, merchantId: shop.merchantId, openedBy: 'olga' }],
    });
    const pending = decisions.map(({ update, by }) =>
      handle.executeUpdate(update, { args: [{ by }] }).then(
        (v): Answer => ({ ok: true, v }),
        (e: unknown): Answer => ({ ok: false, e }),
      ),
    );
    // All admitted before any worker takes the first task.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const worker = await Worker.create({
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: createActivities(activityDepsFrom(stack.config, stack.db, stack.env.client)),
    });
    return worker.runUntil(async () => {
      const answers = await Promise.all(pending);
      const result = (await handle.result()) as EnforcementResult;
      return { answers, result, rowState: (await createEnforcementRepository(stack.db).find(actionId))?.state };
    });
  }

  // The validators look at the pending decision too: `state` leaves awaiting_approval only after
  // the decision is recorded, so without it a second decision was accepted and overwrote the first.
  test('only one of two simultaneous decisions is accepted; the other caller is refused', async () => {
    const { answers, result, rowState } = await decideAtOnce(0, [
      { update: approveEnforcementUpdate, by: 'pan' },
      { update: rejectEnforcementUpdate, by: 'ada' },
    ]);
    const [approved] = answers;
    expect(answers.filter((a) => a.ok)).toHaveLength(1);
    const refused = answers.find((a) => !a.ok)!;
    expect(refused.ok ? undefined : refused.e).toBeInstanceOf(WorkflowUpdateFailedError);
    // The accepted decision is the one carried out, and the row says so.
    expect(result.state).toBe(approved!.ok ? 'completed' : 'rejected');
    expect(rowState).toBe(result.state);
  });

  test('the same approval sent twice by the same checker (a retried request) is one decision, both answered', async () => {
    const { answers, result, rowState } = await decideAtOnce(1, [
      { update: approveEnforcementUpdate, by: 'pan' },
      { update: approveEnforcementUpdate, by: 'pan' },
    ]);
    expect(answers.map((a) => a.ok)).toEqual([true, true]);
    expect(result.state).toBe('completed');
    expect(rowState).toBe('completed');
  });
});
