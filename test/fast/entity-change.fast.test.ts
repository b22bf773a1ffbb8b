import { WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import type { EntityType } from '../../domain/verification';
import { depositStateQuery, depositWorkflowId, type DepositAccountInput } from '../../workflows/deposit-account.defs';
import { decideUpdate, entityChangeStateQuery, entityChangeWorkflowId, type EntityChangeInput, type EntityChangeResult } from '../../workflows/entity-change.defs';
import { reviewCalendarUpdatedSignal } from '../../workflows/verification.defs';
import { DAY, iso, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

/** Review days the stub plans by entity type: the change is reviewed on the new type's calendar. */
const SLA_DAYS: Record<EntityType, number> = { individual: 3, enterprise: 5 };
/** Requirements the stub reassesses by shop type, in fen. */
const REQUIRED_FEN: Record<EntityType, number> = { individual: 1_000_00, enterprise: 5_000_00 };

describe('entityChange branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** Official calendar data loaded: until then the stub's deadlines are provisional, two days short. */
  let officialCalendar = true;
  /** Per merchant: what its applyEntityChange does before it answers (wait, or refuse). */
  const beforeApply = new Map<string, () => Promise<void>>();
  /** Per shop: how many reassessments fail (a passing platform outage) before one answers. */
  const reassessFailures = new Map<string, number>();
  beforeAll(async () => {
    fast = await startFastEnv({
      openCase: async () => undefined,
      recordCaseEvent: async () => undefined,
      planReviewDeadline: async ({ entityType, submittedAt }: { entityType: EntityType; submittedAt: string }) => {
        const workingDays = SLA_DAYS[entityType];
        if (officialCalendar) return { deadline: iso(Date.parse(submittedAt) + workingDays * DAY), workingDays, provisional: false };
        return { deadline: iso(Date.parse(submittedAt) + (workingDays - 2) * DAY), workingDays, provisional: true };
      },
      escalateOverdueCase: async () => undefined,
      notifyMerchant: async () => undefined,
      applyEntityChange: async ({ merchantId }: { merchantId: string }) => {
        await beforeApply.get(merchantId)?.();
        return { shopId: `shop-${merchantId}`, shopType: 'enterprise' };
      },
      reassessDepositForShopType: async ({ shopId, shopType }: { shopId: string; shopType: EntityType }) => {
        const failures = reassessFailures.get(shopId) ?? 0;
        reassessFailures.set(shopId, failures - 1);
        if (failures > 0) throw ApplicationFailure.retryable('platform 503', ErrorType.PlatformUnavailable);
        return { requiredFen: REQUIRED_FEN[shopType], month: '2026-10' };
      },
      // Only for the shop's deposit process that the approval tells (started by the test where it runs).
      openDepositAccount: async () => ({ requiredFen: REQUIRED_FEN.individual, balanceFen: 0, promotionBalanceFen: 0 }),
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = async (merchantId: string) => {
    const input: EntityChangeInput = {
      caseId: `case-${merchantId}`,
      merchantId,
      fromEntityType: 'individual',
      toEntityType: 'enterprise',
      submittedAt: iso(await fast.now()),
      submittedBy: `merchant:${merchantId}`,
    };
    const handle = await fast.client.workflow.start('entityChange', { taskQueue: fast.taskQueue, workflowId: entityChangeWorkflowId(merchantId), args: [input] });
    const opened = await fast.until(() => handle.query(entityChangeStateQuery), (s) => s.deadline !== null);
    return { handle, input, opened };
  };
  const callsFor = (name: string, merchantId: string) =>
    fast.stubs.inputsOf(name).filter((i) => (i as { merchantId?: string; shopId?: string }).merchantId === merchantId || (i as { shopId?: string }).shopId === `shop-${merchantId}`) as Array<Record<string, unknown>>;
  const eventsOf = (merchantId: string) => callsFor('recordCaseEvent', merchantId).map((c) => c.event as { type: string; actor: string; details: Record<string, unknown> });
  const templatesOf = (merchantId: string) => callsFor('notifyMerchant', merchantId).map((c) => c.template);
  const sleepUntil = async (instant: string, offsetMs: number) => fast.env.sleep(Date.parse(instant) + offsetMs - (await fast.now()));
  const approve = { decision: 'approve' as const, reasons: [], reviewer: 'reviewer:rui' };

  test("approve moves the merchant and its shop to the new type, reassesses the deposit under it and tells the shop's deposit process", async () => {
    const deposit: DepositAccountInput = { shopId: 'shop-m-approve', merchantId: 'm-approve', shopType: 'individual' };
    const account = await fast.client.workflow.start('depositAccount', { taskQueue: fast.taskQueue, workflowId: depositWorkflowId('shop-m-approve'), args: [deposit] });
    await fast.until(() => account.query(depositStateQuery), (s) => s.requiredFen === REQUIRED_FEN.individual);

    const { handle, input, opened } = await start('m-approve');
    // Reviewed on the working-day calendar of the type it changes to.
    expect(opened.deadline).toBe(iso(Date.parse(input.submittedAt) + SLA_DAYS.enterprise * DAY));
    const decided = await handle.executeUpdate(decideUpdate, { args: [approve] });
    expect(decided.status).toBe('approved');
    expect(await handle.result()).toEqual<EntityChangeResult>({ status: 'approved', shopId: 'shop-m-approve', requiredFen: REQUIRED_FEN.enterprise });

    expect(callsFor('applyEntityChange', 'm-approve')).toEqual([{ caseId: 'case-m-approve', merchantId: 'm-approve' }]);
    expect(callsFor('reassessDepositForShopType', 'm-approve')).toEqual([{ shopId: 'shop-m-approve', shopType: 'enterprise', asOf: expect.any(String) }]);
    const told = await fast.until(() => account.query(depositStateQuery), (s) => s.requiredFen !== REQUIRED_FEN.individual);
    expect(told.requiredFen).toBe(REQUIRED_FEN.enterprise);

    expect(eventsOf('m-approve').map((e) => e.type)).toEqual(['submitted', 'deadline_set', 'approved']);
    expect(eventsOf('m-approve')[0].details).toMatchObject({ from: 'individual', to: 'enterprise' });
    expect(eventsOf('m-approve')[2]).toMatchObject({ actor: 'reviewer:rui', details: { from: 'individual', to: 'enterprise', shopId: 'shop-m-approve', requiredFen: REQUIRED_FEN.enterprise } });
    expect(templatesOf('m-approve')).toEqual(['entity_change_approved']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'approved' });
    await account.terminate('fast test over');
  });

  test('a passing failure of the reassessment is retried; a shop whose deposit process is gone is approved all the same', async () => {
    reassessFailures.set('shop-m-no-deposit', 1);
    const { handle } = await start('m-no-deposit');
    await handle.startUpdate(decideUpdate, { args: [approve], waitForStage: WorkflowUpdateStage.ACCEPTED });
    expect(await skipToResult<EntityChangeResult>(fast, handle)).toEqual({ status: 'approved', shopId: 'shop-m-no-deposit', requiredFen: REQUIRED_FEN.enterprise });
    expect(callsFor('reassessDepositForShopType', 'm-no-deposit')).toHaveLength(2);
    expect(eventsOf('m-no-deposit').map((e) => e.type)).toEqual(['submitted', 'deadline_set', 'approved']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'approved' });
  });

  test('reject closes the case with its reasons and changes nothing', async () => {
    const { handle } = await start('m-reject');
    await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: ['licence does not match'], reviewer: 'reviewer:rui' }] });
    expect(await handle.result()).toEqual<EntityChangeResult>({ status: 'rejected' });
    expect(callsFor('applyEntityChange', 'm-reject')).toHaveLength(0);
    expect(callsFor('reassessDepositForShopType', 'm-reject')).toHaveLength(0);
    expect(eventsOf('m-reject').at(-1)).toMatchObject({ type: 'rejected', actor: 'reviewer:rui', details: { reasons: ['licence does not match'] } });
    expect(callsFor('recordCaseEvent', 'm-reject').at(-1)).toMatchObject({ patch: { status: 'rejected' } });
    expect(templatesOf('m-reject')).toEqual(['entity_change_rejected']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'rejected' });
  });

  test('request_info and a rejection without reasons are refused; a decision while one is being acted on is refused', async () => {
    const { handle } = await start('m-refusals');
    const askedForInfo = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'request_info', reasons: ['page 2'], reviewer: 'reviewer:rui' }] }).catch((err: Error) => err);
    expect((askedForInfo as Error).cause).toMatchObject({ message: expect.stringMatching(/approved or rejected; reject it with reasons/) });
    const noReasons = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: [], reviewer: 'reviewer:rui' }] }).catch((err: Error) => err);
    expect((noReasons as Error).cause).toMatchObject({ message: expect.stringMatching(/must give reasons/) });
    expect((await handle.query(entityChangeStateQuery)).status).toBe('in_review');
    expect(eventsOf('m-refusals').map((e) => e.type)).toEqual(['submitted', 'deadline_set']);

    let release: () => void = () => undefined;
    const applyHeld = new Promise<void>((resolve) => (release = resolve));
    beforeApply.set('m-refusals', () => applyHeld);
    const approving = await handle.startUpdate(decideUpdate, { args: [approve], waitForStage: WorkflowUpdateStage.ACCEPTED });
    await fast.until(async () => callsFor('applyEntityChange', 'm-refusals'), (c) => c.length === 1);
    const second = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: ['changed my mind'], reviewer: 'reviewer:ana' }] }).catch((err: Error) => err);
    expect((second as Error).cause).toMatchObject({ message: expect.stringMatching(/only a case in review takes a decision/) });
    release();
    expect((await approving.result()).status).toBe('approved');
    expect((await handle.result()).status).toBe('approved');
    expect(eventsOf('m-refusals').map((e) => e.type)).toEqual(['submitted', 'deadline_set', 'approved']);
  });

  test('a number another merchant now holds turns the approval into a rejection by the system; nothing is reassessed', async () => {
    beforeApply.set('m-taken', async () => {
      throw ApplicationFailure.nonRetryable('the identity number is held by another merchant', ErrorType.IdentityTaken);
    });
    const { handle } = await start('m-taken');
    const decided = await handle.executeUpdate(decideUpdate, { args: [approve] });
    expect(decided.status).toBe('rejected');
    expect(await handle.result()).toEqual<EntityChangeResult>({ status: 'rejected' });
    expect(callsFor('applyEntityChange', 'm-taken')).toHaveLength(1); // a refusal, not retried
    expect(callsFor('reassessDepositForShopType', 'm-taken')).toHaveLength(0);
    expect(eventsOf('m-taken').at(-1)).toMatchObject({ type: 'rejected', actor: 'system', details: { reasons: ['the identity number belongs to another merchant'], approvedBy: 'reviewer:rui' } });
    expect(templatesOf('m-taken')).toEqual(['entity_change_rejected']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'rejected' });
  });

  test('the SLA escalates once at the deadline, not before, and the case waits for its decision', async () => {
    const { handle, opened } = await start('m-sla');
    await sleepUntil(opened.deadline!, -60_000);
    expect(callsFor('escalateOverdueCase', 'm-sla')).toHaveLength(0);
    expect((await handle.query(entityChangeStateQuery)).overdue).toBe(false);

    await sleepUntil(opened.deadline!, 60_000);
    const overdue = await fast.until(() => handle.query(entityChangeStateQuery), (s) => s.overdue);
    expect(overdue.status).toBe('in_review');
    expect(callsFor('escalateOverdueCase', 'm-sla')).toEqual([{ caseId: 'case-m-sla', merchantId: 'm-sla', deadline: opened.deadline }]);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'RUNNING', business: 'in_review' });
    await fast.env.sleep(10 * DAY);
    expect(callsFor('escalateOverdueCase', 'm-sla')).toHaveLength(1);

    await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: ['late but no'], reviewer: 'reviewer:rui' }] });
    expect(await handle.result()).toEqual<EntityChangeResult>({ status: 'rejected' });
    expect(eventsOf('m-sla').map((e) => e.type)).toEqual(['submitted', 'deadline_set', 'escalated', 'rejected']);
  });

  test('a provisional deadline is counted again when official calendar data is loaded, and escalates at the new one', async () => {
    officialCalendar = false;
    const { handle, input, opened } = await start('m-provisional');
    expect(opened.deadline).toBe(iso(Date.parse(input.submittedAt) + (SLA_DAYS.enterprise - 2) * DAY));
    officialCalendar = true;
    await handle.signal(reviewCalendarUpdatedSignal);
    const replanned = await fast.until(() => handle.query(entityChangeStateQuery), (s) => s.history.some((h) => h.type === 'deadline_replanned'));
    expect(replanned.deadline).toBe(iso(Date.parse(input.submittedAt) + SLA_DAYS.enterprise * DAY));
    expect(replanned.history.at(-1)).toMatchObject({ type: 'deadline_replanned', details: { from: opened.deadline } });

    await sleepUntil(opened.deadline!, 60_000);
    expect(callsFor('escalateOverdueCase', 'm-provisional')).toHaveLength(0);
    await sleepUntil(replanned.deadline!, 60_000);
    await fast.until(() => handle.query(entityChangeStateQuery), (s) => s.overdue);
    expect(callsFor('escalateOverdueCase', 'm-provisional')).toEqual([{ caseId: 'case-m-provisional', merchantId: 'm-provisional', deadline: replanned.deadline }]);
    await handle.executeUpdate(decideUpdate, { args: [approve] });
    expect((await handle.result()).status).toBe('approved');
  });
});
