import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RecordedBeforeRefusal, RefundPagesInput, RefundPagesResult } from '../../activities/enforcement';
import { ErrorType } from '../../domain/errors';
import { resolveAttentionUpdate } from '../../workflows/attention.defs';
import {
  approveEnforcementUpdate,
  CALLS_PER_RUN,
  ENFORCEMENT_WORKFLOW_TYPE,
  enforcementStateQuery,
  enforcementWorkflowId,
  pauseEnforcementUpdate,
  rejectEnforcementUpdate,
  resumeEnforcementUpdate,
  type EnforcementInput,
  type EnforcementResult,
} from '../../workflows/enforcement-action.defs';
import { startFastEnv, statusesOf, type FastEnv } from './support';

/**
 * The enforcement process's branching over stub activities: a shop is a count of orders, each
 * refund call takes one page of them (the order numbered in `refuse` is refused), and a call can
 * be made to fail once. No database, no platform: money paths are in test/workflows.
 */
describe('enforcement action (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  const shops = new Map<string, { total: number; next: number; refuse: Set<number> }>();
  const failNext = new Map<string, ApplicationFailure>();
  // Shops whose next refund call records one page, then is refused for good (as the activity fails it).
  const refuseAfterOnePage = new Set<string>();
  const failRestriction = new Set<string>();

  beforeAll(async () => {
    fast = await startFastEnv({
      recordEnforcementDecision: async ({ decision }: { decision: string }) => (decision === 'approve' ? 'refunding' : 'rejected'),
      setEnforcementState: async () => undefined,
      setEnforcementAttention: async () => undefined,
      restrictEnforcedShop: async ({ shopId }: { shopId: string }) => {
        if (failRestriction.delete(shopId)) throw ApplicationFailure.nonRetryable('POST /v1/shops/restrictions failed with 403', ErrorType.PlatformRefusalNeedsOps);
      },
      countOrdersToRefund: async ({ shopId }: { shopId: string }) => shops.get(shopId)!.total,
      refundEnforcementPages: async (input: RefundPagesInput): Promise<RefundPagesResult> => {
        const failure = failNext.get(input.shopId);
        failNext.delete(input.shopId);
        if (failure) throw failure;
        const shop = shops.get(input.shopId)!;
        let refunded = 0;
        let refused = 0;
        const refuse = refuseAfterOnePage.delete(input.shopId);
        for (let page = 0; page < input.pages && shop.next <= shop.total; page++) {
          if (refuse && page === 1) {
            const before: RecordedBeforeRefusal = { refunded, refused, afterOrderId: `o-${shop.next - 1}` };
            throw ApplicationFailure.create({ message: 'POST /v1/payments/order-refunds/batch failed with 400', type: ErrorType.PlatformRefusalNeedsOps, nonRetryable: true, details: [before] });
          }
          for (let n = 0; n < input.pageSize && shop.next <= shop.total; n++, shop.next++) {
            if (shop.refuse.has(shop.next)) refused++;
            else refunded++;
          }
        }
        return { refunded, refused, afterOrderId: `o-${shop.next - 1}`, done: shop.next > shop.total };
      },
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  async function start(actionId: string, orders: number, extra: Partial<EnforcementInput> = {}, refuse: number[] = []) {
    const shopId = `shop-${actionId}`;
    shops.set(shopId, { total: orders, next: 1, refuse: new Set(refuse) });
    return fast.client.workflow.start(ENFORCEMENT_WORKFLOW_TYPE, {
      workflowId: enforcementWorkflowId(actionId),
      taskQueue: fast.taskQueue,
      args: [{ actionId, shopId, merchantId: 'm-1', openedBy: 'olga', pageSize: 10, pagesPerCall: 1, ...extra }],
    });
  }

  test('the maker is refused before any step runs; another person approves; refusals counted', async () => {
    const handle = await start('enf_fast_1', 95, {}, [7, 93]);
    const refused = await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'olga' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: ErrorType.Forbidden });
    expect(fast.stubs.inputsOf('recordEnforcementDecision').filter((i) => (i as { actionId: string }).actionId === 'enf_fast_1')).toEqual([]);
    expect(await handle.query(enforcementStateQuery)).toMatchObject({ state: 'awaiting_approval', progress: { done: 0, failed: 0, remaining: 0 } });

    await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'pan' }] });
    expect(await handle.result()).toEqual({ actionId: 'enf_fast_1', state: 'completed', refunded: 93, refused: 2 } satisfies EnforcementResult);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'completed' });
    // The restriction came before the first refund.
    const order = fast.stubs.calls.filter((c) => (c.input as { actionId?: string; shopId?: string }).shopId === 'shop-enf_fast_1' || (c.input as { actionId?: string }).actionId === 'enf_fast_1').map((c) => c.name);
    expect(order.indexOf('restrictEnforcedShop')).toBeLessThan(order.indexOf('refundEnforcementPages'));
  });

  test('a rejection ends the action: nothing restricted, nothing refunded', async () => {
    const handle = await start('enf_fast_2', 10);
    await expect(handle.executeUpdate(rejectEnforcementUpdate, { args: [{ by: 'olga' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await handle.executeUpdate(rejectEnforcementUpdate, { args: [{ by: 'rui' }] });
    expect(await handle.result()).toEqual({ actionId: 'enf_fast_2', state: 'rejected', refunded: 0, refused: 0 });
    expect(fast.stubs.calls.some((c) => c.name === 'restrictEnforcedShop' && (c.input as { actionId: string }).actionId === 'enf_fast_2')).toBe(false);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'rejected' });
  });

  test('a long walk continues as new and keeps its counts; a transient failure is retried, pause and resume shown', async () => {
    const orders = (CALLS_PER_RUN + 30) * 10;
    const handle = await start('enf_fast_3', orders, {}, [5]);
    failNext.set('shop-enf_fast_3', ApplicationFailure.retryable('POST /v1/payments/order-refunds/batch failed with 503', ErrorType.PlatformUnavailable));
    await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'pan' }] });
    await handle.executeUpdate(pauseEnforcementUpdate, { args: [{ by: 'olga' }] });
    expect((await statusesOf(fast, handle.workflowId)).business).toBe('paused');
    await expect(handle.executeUpdate(pauseEnforcementUpdate, { args: [{ by: 'olga' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await handle.executeUpdate(resumeEnforcementUpdate, { args: [{ by: 'olga' }] });
    const result = (await fast.client.workflow.getHandle(handle.workflowId).result()) as EnforcementResult;
    expect(result).toEqual({ actionId: 'enf_fast_3', state: 'completed', refunded: orders - 1, refused: 1 });
    const { runId } = await fast.client.workflow.getHandle(handle.workflowId).describe();
    expect(runId).not.toBe(handle.firstExecutionRunId);
  });

  test('a refund call the platform refused for good waits for ops, shown everywhere; their retry finishes it, counting every page', async () => {
    const handle = await start('enf_fast_4', 30, { pagesPerCall: 2 });
    refuseAfterOnePage.add('shop-enf_fast_4');
    await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'pan' }] });
    const waiting = await fast.until(() => handle.query(enforcementStateQuery), (v) => v.state === 'needs_attention');
    expect(waiting).toMatchObject({
      attention: { step: 'refundEnforcementPages', error: 'POST /v1/payments/order-refunds/batch failed with 400' },
      // The page recorded before the refusal counts.
      progress: { done: 10, failed: 0, remaining: 20 },
    });
    const described = await fast.client.workflow.getHandle(handle.workflowId).describe();
    expect(described.status.name).toBe('RUNNING');
    expect((await statusesOf(fast, handle.workflowId)).business).toBe('needs_attention');
    expect(fast.stubs.inputsOf('setEnforcementAttention')).toContainEqual({ actionId: 'enf_fast_4', step: 'refundEnforcementPages', error: 'POST /v1/payments/order-refunds/batch failed with 400', since: expect.any(String) });
    // Nothing is paused meanwhile, and the refunds cannot be abandoned.
    await expect(handle.executeUpdate(pauseEnforcementUpdate, { args: [{ by: 'olga' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'abandon', actor: 'olga' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    const calls = fast.stubs.inputsOf('refundEnforcementPages').filter((i) => (i as RefundPagesInput).actionId === 'enf_fast_4');
    expect(calls).toHaveLength(1);

    expect(await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'olga' }] })).toEqual({ action: 'retry', step: 'refundEnforcementPages' });
    expect(await handle.result()).toEqual({ actionId: 'enf_fast_4', state: 'completed', refunded: 30, refused: 0 } satisfies EnforcementResult);
    // Ops' retry started after the page recorded before the refusal.
    const retried = fast.stubs.inputsOf('refundEnforcementPages').filter((i) => (i as RefundPagesInput).actionId === 'enf_fast_4');
    expect((retried[1] as RefundPagesInput).afterOrderId).toBe('o-10');
    expect(fast.stubs.inputsOf('setEnforcementState').filter((i) => (i as { actionId: string }).actionId === 'enf_fast_4').map((i) => (i as { state: string }).state)).toEqual(['refunding', 'completed']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'completed' });
  });

  test('a restriction the platform refused for good waits for ops before any refund; retried, it goes on', async () => {
    const handle = await start('enf_fast_5', 5);
    failRestriction.add('shop-enf_fast_5');
    await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'pan' }] });
    const waiting = await fast.until(() => handle.query(enforcementStateQuery), (v) => v.state === 'needs_attention');
    expect(waiting.attention).toMatchObject({ step: 'restrictEnforcedShop', error: expect.stringContaining('403') });
    expect(fast.stubs.inputsOf('refundEnforcementPages').filter((i) => (i as RefundPagesInput).actionId === 'enf_fast_5')).toEqual([]);
    await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'pan' }] });
    expect(await handle.result()).toEqual({ actionId: 'enf_fast_5', state: 'completed', refunded: 5, refused: 0 });
  });
});
