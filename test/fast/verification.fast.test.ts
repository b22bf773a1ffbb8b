import { decideUpdate, resubmitUpdate, verificationStateQuery, type VerificationInput, type VerificationResult } from '../../workflows/verification.defs';
import { depositWorkflowId } from '../../workflows/deposit-account.defs';
import { DAY, iso, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const SLA_DAYS = 3;
const RESUBMIT_DAYS = 7;

describe('verificationReview branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  beforeAll(async () => {
    fast = await startFastEnv({
      openCase: async () => undefined,
      recordCaseEvent: async () => undefined,
      planReviewDeadline: async ({ submittedAt }: { submittedAt: string }) => ({ deadline: iso(Date.parse(submittedAt) + SLA_DAYS * DAY), workingDays: SLA_DAYS }),
      planResubmissionDeadline: async ({ requestedAt }: { requestedAt: string }) => ({ resubmitBy: iso(Date.parse(requestedAt) + RESUBMIT_DAYS * DAY), windowDays: RESUBMIT_DAYS }),
      activateMerchant: async ({ merchantId }: { merchantId: string }) => ({ shopId: `shop-${merchantId}` }),
      escalateOverdueCase: async () => undefined,
      notifyMerchant: async () => undefined,
      // Approval starts the shop's deposit account as a child on this task queue: it opens, then waits for money.
      openDepositAccount: async () => ({ requiredFen: 2_000_00, balanceFen: 0, promotionBalanceFen: 0 }),
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = async (merchantId: string) => {
    const input: VerificationInput = { caseId: `case-${merchantId}`, merchantId, entityType: 'individual', submittedAt: iso(await fast.now()) };
    const handle = await fast.client.workflow.start('verificationReview', { taskQueue: fast.taskQueue, workflowId: `verification:${merchantId}`, args: [input] });
    await fast.until(() => handle.query(verificationStateQuery), (s) => s.deadline !== null);
    return handle;
  };
  const callsFor = (name: string, merchantId: string) =>
    fast.stubs.inputsOf(name).filter((i) => (i as { merchantId: string }).merchantId === merchantId) as Array<Record<string, unknown>>;
  const eventsOf = (merchantId: string) => callsFor('recordCaseEvent', merchantId).map((c) => (c.event as { type: string }).type);

  test('approve activates the merchant, opens its deposit account and tells the merchant', async () => {
    const handle = await start('m-approve');
    const decided = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'approve', reasons: [], reviewer: 'reviewer:rui' }] });
    expect(decided.status).toBe('approved');
    expect(await handle.result()).toEqual({ status: 'approved', shopId: 'shop-m-approve' });
    expect(callsFor('activateMerchant', 'm-approve')).toEqual([{ caseId: 'case-m-approve', merchantId: 'm-approve', entityType: 'individual' }]);
    expect(callsFor('notifyMerchant', 'm-approve').map((c) => c.template)).toEqual(['verification_approved']);
    expect(eventsOf('m-approve')).toEqual(['submitted', 'deadline_set', 'approved']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'approved' });
    // The deposit account is a child process of its own, left running when the review ends.
    const child = fast.client.workflow.getHandle(depositWorkflowId('shop-m-approve'));
    expect((await child.describe()).type).toBe('depositAccount');
    await fast.until(async () => fast.stubs.inputsOf('openDepositAccount'), (c) => c.some((i) => (i as { shopId: string }).shopId === 'shop-m-approve'));
    await child.terminate('fast test over');
  });

  test('reject closes the case without activating anyone', async () => {
    const handle = await start('m-reject');
    await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: ['blurred licence'], reviewer: 'reviewer:rui' }] });
    expect(await handle.result()).toEqual({ status: 'rejected' });
    expect(callsFor('activateMerchant', 'm-reject')).toHaveLength(0);
    expect(callsFor('notifyMerchant', 'm-reject').map((c) => c.template)).toEqual(['verification_rejected']);
    const rejected = callsFor('recordCaseEvent', 'm-reject').find((c) => (c.event as { type: string }).type === 'rejected');
    expect(rejected).toMatchObject({ event: { actor: 'reviewer:rui', details: { reasons: ['blurred licence'] } }, patch: { status: 'rejected' } });
  });

  test('a decision without reasons to reject is refused and the case stays in review', async () => {
    const handle = await start('m-no-reasons');
    const refused = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: [], reviewer: 'reviewer:rui' }] }).catch((err: Error) => err);
    expect((refused as Error).cause).toMatchObject({ message: expect.stringMatching(/must give reasons/) });
    expect((await handle.query(verificationStateQuery)).status).toBe('in_review');
    await handle.terminate('fast test over');
  });

  test('request_info then a resubmission puts the case back in review with a fresh deadline', async () => {
    const handle = await start('m-resubmit');
    const asked = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'request_info', reasons: ['licence page 2'], reviewer: 'reviewer:rui' }] });
    expect(asked.status).toBe('awaiting_resubmission');
    const [{ requestedAt }] = fast.stubs.inputsOf('planResubmissionDeadline').slice(-1) as Array<{ requestedAt: string }>;
    expect(asked.resubmitBy).toBe(iso(Date.parse(requestedAt) + RESUBMIT_DAYS * DAY));
    // The merchant is told right after the update answers.
    const told = await fast.until(async () => callsFor('notifyMerchant', 'm-resubmit'), (c) => c.length > 0);
    expect(told.map((c) => c.template)).toEqual(['verification_info_requested']);

    await fast.env.sleep(2 * DAY);
    const submittedAt = iso(await fast.now());
    const back = await handle.executeUpdate(resubmitUpdate, { args: [{ submissionSeq: 2, submittedAt, by: 'merchant:m-resubmit' }] });
    expect(back).toMatchObject({ status: 'in_review', resubmitBy: null });
    const replanned = await fast.until(() => handle.query(verificationStateQuery), (s) => s.history.filter((h) => h.type === 'deadline_set').length === 2);
    expect(replanned.deadline).toBe(iso(Date.parse(submittedAt) + SLA_DAYS * DAY));
    expect(callsFor('planReviewDeadline', 'm-resubmit')).toHaveLength(0); // its input names no merchant
    await handle.executeUpdate(decideUpdate, { args: [{ decision: 'approve', reasons: [], reviewer: 'reviewer:rui' }] });
    expect(await handle.result()).toEqual({ status: 'approved', shopId: 'shop-m-resubmit' });
    await fast.client.workflow.getHandle(depositWorkflowId('shop-m-resubmit')).terminate('fast test over');
  });

  test('request_info with no resubmission in 7 days abandons the case', async () => {
    const handle = await start('m-silent');
    await handle.executeUpdate(decideUpdate, { args: [{ decision: 'request_info', reasons: ['licence page 2'], reviewer: 'reviewer:rui' }] });
    await fast.env.sleep(RESUBMIT_DAYS * DAY - 60_000);
    expect((await handle.query(verificationStateQuery)).status).toBe('awaiting_resubmission');
    expect(await skipToResult<VerificationResult>(fast, handle)).toEqual({ status: 'abandoned' });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'abandoned' });
    expect(eventsOf('m-silent').slice(-2)).toEqual(['info_requested', 'abandoned']);
    expect(callsFor('notifyMerchant', 'm-silent').map((c) => c.template)).toEqual(['verification_info_requested', 'verification_abandoned']);
  });

  test('the SLA escalates once at the deadline, not before, and the case waits for its decision', async () => {
    const handle = await start('m-sla');
    const { deadline } = await handle.query(verificationStateQuery);
    await fast.env.sleep(Date.parse(deadline!) - (await fast.now()) - 60_000);
    expect(callsFor('escalateOverdueCase', 'm-sla')).toHaveLength(0);
    expect((await handle.query(verificationStateQuery)).overdue).toBe(false);

    await fast.env.sleep(120_000);
    const overdue = await fast.until(() => handle.query(verificationStateQuery), (s) => s.overdue);
    expect(overdue.status).toBe('in_review');
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'RUNNING', business: 'in_review' });
    expect(callsFor('escalateOverdueCase', 'm-sla')).toEqual([{ caseId: 'case-m-sla', merchantId: 'm-sla', deadline }]);
    await fast.env.sleep(5 * DAY);
    expect(callsFor('escalateOverdueCase', 'm-sla')).toHaveLength(1);
    await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: ['late but no'], reviewer: 'reviewer:rui' }] });
    expect(await handle.result()).toEqual({ status: 'rejected' });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'rejected' });
  });
});
