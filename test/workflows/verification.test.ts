import { Client } from '@temporalio/client';
import { workingDayDeadline, createWorkingDayCalendar } from '../../domain/calendar';
import { BUSINESS_STATUS, OVERDUE } from '../../workflows/search-attributes';
import { verificationStateQuery, type VerificationState } from '../../workflows/verification.defs';
import type { Principal } from '../../api/auth';
import { TEST_CALENDAR_EXTRA } from '../support/calendar';
import { enterpriseRequest, eventually, individualRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';

const ops: Principal = { sub: 'olga', role: 'ops' };
const reviewer: Principal = { sub: 'rui', role: 'reviewer' };
const merchantOf = (merchantId: string): Principal => ({ sub: `u-${merchantId}`, role: 'merchant', merchantId });
const calendar = createWorkingDayCalendar(TEST_CALENDAR_EXTRA);
const MINUTE = 60_000;

describe('verification review workflow (time-skipping)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const handleOf = (workflowId: string) => stack.env.client.workflow.getHandle(workflowId);
  const stateOf = (workflowId: string) => handleOf(workflowId).query(verificationStateQuery);
  const waitForState = (workflowId: string, done: (s: VerificationState) => boolean) =>
    eventually(() => stateOf(workflowId), done);
  /**
   * The result of a workflow that has finished (or is about to). Plain `result()` would
   * let the test server skip time while it waits, moving every other test's clock.
   */
  const finished = async (workflowId: string) => {
    await eventually(() => handleOf(workflowId).describe(), (d) => d.status.name !== 'RUNNING');
    return new Client({ connection: stack.env.connection }).workflow.getHandle(workflowId).result();
  };
  const notificationsFor = (merchantId: string) =>
    stack.sandbox.state.notifications.filter((n) => n.merchantId === merchantId);

  test('an enterprise case submitted before National Day 2026 is due after the holiday and its adjusted Saturday', async () => {
    // Tue 29 Sep 10:00 Shanghai; 5 working days: 30 Sep, 8, 9, 10 (Saturday, 调休), 12 Oct.
    const started = await stack.verifications.start(enterpriseRequest('m-national-day'), ops, new Date('2026-09-29T02:00:00Z'));
    const state = await waitForState(started.workflowId, (s) => s.deadline !== null);
    expect(state.deadline).toBe('2026-10-12T15:59:59.999Z');
    expect(state.history.find((h) => h.type === 'deadline_set')?.details).toMatchObject({ workingDays: 5 });

    // The test server's clock is past that date, so the SLA has already run out: the case escalates and stays open.
    const overdue = await waitForState(started.workflowId, (s) => s.overdue);
    expect(overdue.status).toBe('in_review');
    const view = await stack.verifications.view(started.caseId, ops);
    expect(view).toMatchObject({ deadline: '2026-10-12T15:59:59.999Z', overdue: true, status: 'in_review' });
    await handleOf(started.workflowId).terminate('test over');
  });

  test('escalates at the SLA, not before, then approval verifies the merchant and opens its shop', async () => {
    const merchantId = 'm-sla';
    const now = new Date(await stack.env.currentTimeMs());
    const expectedDeadline = workingDayDeadline(now, 3, calendar);
    const started = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), now);
    await waitForState(started.workflowId, (s) => s.deadline === expectedDeadline.toISOString());

    await stack.env.sleep(expectedDeadline.getTime() - now.getTime() - MINUTE);
    expect((await stateOf(started.workflowId)).overdue).toBe(false);
    expect(notificationsFor(merchantId).filter((n) => n.recipient === 'supervisor')).toHaveLength(0);

    await stack.env.sleep(2 * MINUTE);
    const escalated = await waitForState(started.workflowId, (s) => s.overdue);
    expect(escalated.status).toBe('in_review');
    const supervisorCalls = notificationsFor(merchantId).filter((n) => n.recipient === 'supervisor');
    expect(supervisorCalls).toHaveLength(1);
    expect(supervisorCalls[0]).toMatchObject({ template: 'verification_overdue', data: { caseId: started.caseId } });
    const described = await handleOf(started.workflowId).describe();
    expect(described.typedSearchAttributes.get(OVERDUE)).toBe(true);
    expect(described.typedSearchAttributes.get(BUSINESS_STATUS)).toBe('in_review');

    const decided = await stack.verifications.decide(started.caseId, { decision: 'approve', reasons: [] }, reviewer);
    expect(decided.status).toBe('approved');
    expect(await finished(started.workflowId)).toEqual({ status: 'approved', shopId: `shop-${merchantId}` });

    const merchant = await stack.db('merchants').where({ id: merchantId }).first();
    expect(merchant).toMatchObject({ verification_status: 'verified', legal_name: '张三' });
    expect(await stack.db('shops').where({ merchant_id: merchantId }).first()).toMatchObject({
      id: `shop-${merchantId}`,
      shop_type: 'individual',
      opened_by_case_id: started.caseId,
    });
    const view = await stack.verifications.view(started.caseId, ops);
    expect(view.history.map((h) => h.type)).toEqual(['submitted', 'deadline_set', 'escalated', 'approved']);
    expect(view.history[3]).toMatchObject({ actor: 'reviewer:rui' });
    expect(notificationsFor(merchantId).map((n) => n.template)).toContain('verification_approved');
  });

  test('a request for information, answered in time, goes back to review with a fresh SLA and can then be rejected', async () => {
    const merchantId = 'm-resubmit';
    const started = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), new Date(await stack.env.currentTimeMs()));
    await waitForState(started.workflowId, (s) => s.deadline !== null);

    const requestedAt = await stack.env.currentTimeMs();
    const asked = await stack.verifications.decide(started.caseId, { decision: 'request_info', reasons: ['ID photo is blurred'] }, reviewer);
    expect(asked.status).toBe('awaiting_resubmission');
    expect(Date.parse(asked.resubmitBy!) - requestedAt).toBeGreaterThanOrEqual(7 * 24 * 60 * MINUTE - MINUTE);
    expect(Date.parse(asked.resubmitBy!) - requestedAt).toBeLessThanOrEqual(7 * 24 * 60 * MINUTE + MINUTE);

    await stack.env.sleep('2 days');
    const resubmittedAt = new Date(await stack.env.currentTimeMs());
    const back = await stack.verifications.resubmit(
      started.caseId,
      { ...individualRequest(merchantId), merchantId: undefined, entityType: undefined, legalName: undefined } as never,
      merchantOf(merchantId),
      resubmittedAt,
    );
    expect(back.status).toBe('in_review');
    const fresh = await waitForState(started.workflowId, (s) => s.history.filter((h) => h.type === 'deadline_set').length === 2);
    expect(fresh.deadline).toBe(workingDayDeadline(resubmittedAt, 3, calendar).toISOString());
    expect(fresh.overdue).toBe(false);

    const rejected = await stack.verifications.decide(started.caseId, { decision: 'reject', reasons: ['name does not match the ID card'] }, reviewer);
    expect(rejected.status).toBe('rejected');
    expect(await finished(started.workflowId)).toEqual({ status: 'rejected' });
    expect(await stack.db('merchants').where({ id: merchantId }).first()).toMatchObject({ verification_status: 'rejected' });
    expect(await stack.db('shops').where({ merchant_id: merchantId })).toHaveLength(0);
    const view = await stack.verifications.view(started.caseId, reviewer);
    expect(view.submissions.map((s) => s.seq)).toEqual([1, 2]);
    expect(view.history.map((h) => h.type)).toEqual([
      'submitted', 'deadline_set', 'info_requested', 'resubmitted', 'deadline_set', 'rejected',
    ]);

    // A closed case frees the merchant to submit again.
    const again = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), new Date(await stack.env.currentTimeMs()));
    expect(again.caseId).not.toBe(started.caseId);
  });

  test('a request for information left unanswered for 7 days closes the case as abandoned', async () => {
    const merchantId = 'm-abandon';
    const started = await stack.verifications.start(individualRequest(merchantId), ops, new Date(await stack.env.currentTimeMs()));
    await waitForState(started.workflowId, (s) => s.deadline !== null);
    await stack.verifications.decide(started.caseId, { decision: 'request_info', reasons: ['bank card photo missing'] }, reviewer);

    await stack.env.sleep('6 days');
    expect((await stateOf(started.workflowId)).status).toBe('awaiting_resubmission');
    await stack.env.sleep('1 day');
    expect(await finished(started.workflowId)).toEqual({ status: 'abandoned' });

    const view = await stack.verifications.view(started.caseId, ops);
    expect(view.status).toBe('abandoned');
    expect(view.closedAt).not.toBeNull();
    expect(notificationsFor(merchantId).map((n) => n.template)).toEqual(['verification_info_requested', 'verification_abandoned']);
    await expect(
      stack.verifications.resubmit(started.caseId, { documents: [] } as never, merchantOf(merchantId)),
    ).rejects.toMatchObject({ status: 400 });
  });

  test('decisions the case cannot take are refused with the reason', async () => {
    const merchantId = 'm-refusals';
    const started = await stack.verifications.start(individualRequest(merchantId), ops, new Date(await stack.env.currentTimeMs()));
    await waitForState(started.workflowId, (s) => s.deadline !== null);
    await expect(stack.verifications.decide(started.caseId, { decision: 'reject', reasons: [] }, reviewer)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('must give reasons'),
    });
    await expect(
      stack.verifications.resubmit(started.caseId, { documents: individualRequest(merchantId).documents, idNumber: individualRequest(merchantId).idNumber, bankCard: individualRequest(merchantId).bankCard }, ops),
    ).rejects.toMatchObject({ status: 409, message: expect.stringContaining('not waiting for a resubmission') });
    await stack.verifications.decide(started.caseId, { decision: 'approve', reasons: [] }, reviewer);
    await finished(started.workflowId);
    await expect(stack.verifications.decide(started.caseId, { decision: 'approve', reasons: [] }, reviewer)).rejects.toMatchObject({ status: 409 });
  });
});
