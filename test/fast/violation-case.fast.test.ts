import type { ViolationLevel } from '../../domain/violations';
import {
  appealUpdate,
  decideAppealUpdate,
  violationStateQuery,
  type CaseDecision,
  type ViolationCaseInput,
  type ViolationCaseState,
} from '../../workflows/violation-case.defs';
import { DAY, iso, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const APPEAL_DAYS = 3;
const SUSPENSION_DAYS = 7;
const EFFECT_DAYS = { general: 30, serious: 90 } as const;

/** What openViolationCase would decide for a level, counted from when the case opens. */
function decisionFor(level: 'general' | 'serious', asOf: string): CaseDecision {
  const at = (days: number) => iso(Date.parse(asOf) + days * DAY);
  return {
    level,
    escalatedBecause: null,
    appealDeadline: at(APPEAL_DAYS),
    effectEndsAt: at(EFFECT_DAYS[level]),
    penalty: {
      points: level === 'general' ? 2 : 6,
      delistProducts: level === 'general',
      fineFen: level === 'general' ? 0 : 500_00,
      suspendSalesUntil: level === 'serious' ? at(SUSPENSION_DAYS) : null,
      restrictionsForEffect: [],
      permanentRestrictions: [],
      startClosure: false,
      forfeitUnsettledCommission: false,
    },
  };
}

describe('violationCase branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  const levels = new Map<string, 'general' | 'serious'>();
  beforeAll(async () => {
    fast = await startFastEnv({
      openViolationCase: async ({ caseId, asOf }: { caseId: string; asOf: string }) => decisionFor(levels.get(caseId)!, asOf),
      replanAppealDeadline: async () => ({ appealDeadline: null, provisional: false, changed: false }),
      applyViolationPenalty: async () => ({}),
      liftViolationRestrictions: async () => ({}),
      recordViolationStatus: async () => undefined,
      reverseViolationPenalty: async () => ({ refundedFineFen: 500_00 }),
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const open = async (caseId: string, level: 'general' | 'serious') => {
    levels.set(caseId, level);
    const input: ViolationCaseInput = {
      caseId,
      merchantId: 'm-1',
      shopId: 'shop-1',
      type: 'price_violation',
      reportedLevel: level as ViolationLevel,
      evidence: { summary: 'price raised before a promotion', productIds: ['p-1'] },
      openedBy: 'ops:olga',
    };
    const handle = await fast.client.workflow.start('violationCase', { taskQueue: fast.taskQueue, workflowId: `violation:${caseId}`, args: [input] });
    const opened = await fast.until(() => handle.query(violationStateQuery), (s) => s.status === 'appealable');
    return { handle, opened };
  };
  const inputsFor = (name: string, caseId: string) =>
    fast.stubs.inputsOf(name).filter((i) => (i as { caseId: string }).caseId === caseId) as Array<Record<string, unknown>>;
  const lifted = (caseId: string) => inputsFor('liftViolationRestrictions', caseId).map((i) => i.part);
  const events = (caseId: string) => inputsFor('recordViolationStatus', caseId).map((i) => i.event);
  const sleepUntil = async (instant: string, offsetMs: number) => fast.env.sleep(Date.parse(instant) + offsetMs - (await fast.now()));

  test('a general penalty: applied at once, in effect when the appeal window closes, expired when its effect period ends', async () => {
    const { handle, opened } = await open('v-general', 'general');
    expect(inputsFor('applyViolationPenalty', 'v-general')).toHaveLength(1);
    expect(opened.suspensionLifted).toBe(true); // nothing suspended

    await sleepUntil(opened.decision!.appealDeadline!, -60_000);
    expect((await handle.query(violationStateQuery)).status).toBe('appealable');
    await sleepUntil(opened.decision!.appealDeadline!, 60_000);
    await fast.until(() => handle.query(violationStateQuery), (s) => s.status === 'in_effect');
    expect(events('v-general')).toEqual(['appeal_window_closed']);

    await sleepUntil(opened.decision!.effectEndsAt!, -60_000);
    expect(lifted('v-general')).toEqual([]);
    const final = await skipToResult<ViolationCaseState>(fast, handle);
    expect(final.status).toBe('expired');
    expect(lifted('v-general')).toEqual(['effect']);
    expect(events('v-general')).toEqual(['appeal_window_closed', 'expired']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'expired' });
  });

  test('a serious penalty lifts its sales suspension on day 7 and the rest when the effect period ends', async () => {
    const { handle, opened } = await open('v-serious', 'serious');
    const suspensionEnds = opened.decision!.penalty.suspendSalesUntil!;
    await sleepUntil(suspensionEnds, -60_000);
    expect(lifted('v-serious')).toEqual([]);
    await sleepUntil(suspensionEnds, 60_000);
    const afterSuspension = await fast.until(() => handle.query(violationStateQuery), (s) => s.suspensionLifted);
    expect(afterSuspension.status).toBe('in_effect');
    expect(lifted('v-serious')).toEqual(['suspension']);

    const final = await skipToResult<ViolationCaseState>(fast, handle);
    expect(final.status).toBe('expired');
    expect(lifted('v-serious')).toEqual(['suspension', 'effect']);
  });

  test('an upheld appeal reverses the penalty and ends the case', async () => {
    const { handle } = await open('v-upheld', 'serious');
    const appealed = await handle.executeUpdate(appealUpdate, { args: [{ statement: 'the price was a typo', actor: 'merchant:m-1' }] });
    expect(appealed.status).toBe('appealed');
    const decided = await handle.executeUpdate(decideAppealUpdate, { args: [{ decision: 'upheld', reasons: [], reviewer: 'reviewer:rui' }] });
    expect(decided).toMatchObject({ status: 'reversed', appeal: { decision: 'upheld', decidedBy: 'reviewer:rui' } });
    const final = await skipToResult<ViolationCaseState>(fast, handle);
    expect(final.status).toBe('reversed');
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'reversed' });
    expect(inputsFor('reverseViolationPenalty', 'v-upheld')).toEqual([expect.objectContaining({ reviewer: 'reviewer:rui' })]);
    expect(events('v-upheld')).toEqual(['appeal_filed', 'appeal_upheld']);
    expect(lifted('v-upheld')).toEqual([]); // reversal, not the timers, took the penalty back
  });

  test('a rejected appeal leaves the penalty in effect until its effect period ends', async () => {
    const { handle, opened } = await open('v-rejected', 'general');
    await handle.executeUpdate(appealUpdate, { args: [{ statement: 'not us', actor: 'merchant:m-1' }] });
    const refused = await handle
      .executeUpdate(decideAppealUpdate, { args: [{ decision: 'rejected', reasons: ['screenshots'], reviewer: 'ops:olga' }] })
      .catch((err: Error) => err);
    expect((refused as Error).cause).toMatchObject({ message: expect.stringMatching(/opened the case cannot decide/) });
    const decided = await handle.executeUpdate(decideAppealUpdate, { args: [{ decision: 'rejected', reasons: ['screenshots'], reviewer: 'reviewer:rui' }] });
    expect(decided.status).toBe('in_effect');
    expect(inputsFor('reverseViolationPenalty', 'v-rejected')).toHaveLength(0);
    const final = await skipToResult<ViolationCaseState>(fast, handle);
    expect(final.status).toBe('expired');
    expect(Date.parse(final.decision!.effectEndsAt!)).toBe(Date.parse(opened.decision!.effectEndsAt!));
    expect(events('v-rejected')).toEqual(['appeal_filed', 'appeal_rejected', 'expired']);
  });

  test('an appeal after the window has closed is refused', async () => {
    const { handle, opened } = await open('v-late', 'general');
    await sleepUntil(opened.decision!.appealDeadline!, 60_000);
    await fast.until(() => handle.query(violationStateQuery), (s) => s.status === 'in_effect');
    const refused = await handle.executeUpdate(appealUpdate, { args: [{ statement: 'too late', actor: 'merchant:m-1' }] }).catch((err: Error) => err);
    expect((refused as Error).cause).toMatchObject({ message: `the appeal window closed at ${opened.decision!.appealDeadline}` });
    expect((await handle.query(violationStateQuery)).appeal).toBeNull();
    await handle.terminate('fast test over');
  });
});
