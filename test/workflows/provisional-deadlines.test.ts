import request from 'supertest';
import { appealUpdate } from '../../workflows/violation-case.defs';
import { verificationStateQuery } from '../../workflows/verification.defs';
import { enterpriseRequest, eventually } from '../support/fixtures';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { caseHandle, caseState, openViolation } from '../support/violations';

/** A wall-clock time in Shanghai (UTC+8). */
const shanghai = (local: string) => Date.parse(`${local}+08:00`);

/*
 * The package's data ends on 31 December 2026 and this stack loads no extra file, as in
 * production before the State Council publishes: a window that crosses New Year is counted
 * on the provisional calendar instead of stalling, and re-planned when ops load 2027.
 */
describe('deadlines across a year without official data (time-skipping)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ CALENDAR_EXTRA_PATH: '' });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const sleepUntil = async (instant: number) => stack.env.sleep(instant - (await stack.env.currentTimeMs()));

  test('a serious case opened on 30 December 2026 is penalised with a provisional window, an enterprise review gets a provisional SLA; loading 2027 with another day off re-plans both', async () => {
    const shop = await openShop(stack, 'm-provisional');
    await sleepUntil(shanghai('2026-12-30T10:00:00'));
    const c = await openViolation(stack, { merchantId: 'm-provisional', shopId: shop.shopId, type: 'price_violation', level: 'serious' });

    // 3 working days: 31 December, then (1 January a holiday, the weekend off) 4 and 5 January.
    const opened = await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    expect(opened.decision).toMatchObject({ appealDeadline: '2027-01-05T15:59:59.999Z', appealDeadlineProvisional: true });
    const row = await stack.db('violation_cases').where({ id: c.caseId }).first();
    expect(row).toMatchObject({ status: 'appealable', appeal_deadline_provisional: true });
    // The penalty applies at once: sales stopped on the platform for the suspension.
    const applied = (await eventually(() => stack.db('violation_events').where({ case_id: c.caseId, type: 'penalty_applied' }).first(), Boolean)) as { details: unknown };
    expect(applied.details).toMatchObject({ suspension: ['stop_sales'] });
    const described = await caseHandle(stack, c.caseId).describe();
    expect(described.searchAttributes.ProvisionalDeadline).toEqual([true]);

    // An enterprise review submitted Mon 28 December: 5 working days are 29–31 December, 4 and 5 January.
    const review = await stack.verifications.start(enterpriseRequest('m-provisional-review'), { sub: 'olga', role: 'ops' }, new Date('2026-12-28T02:00:00Z'));
    const reviewState = () => stack.env.client.workflow.getHandle(review.workflowId).query(verificationStateQuery);
    const planned = await eventually(reviewState, (s) => s.deadline !== null);
    expect(planned.deadline).toBe('2027-01-05T15:59:59.999Z');
    expect(planned.history.find((h) => h.type === 'deadline_set')?.details).toMatchObject({ workingDays: 5, provisional: true });
    expect(await stack.db('verification_cases').where({ id: review.caseId }).first()).toMatchObject({ deadline_provisional: true });
    expect((await stack.env.client.workflow.getHandle(review.workflowId).describe()).searchAttributes.ProvisionalDeadline).toEqual([true]);

    // The official 2027 (made up for the test): 4 January is a day off too.
    const admin = await stack.token({ sub: 'ada', role: 'admin' });
    const res = await request(stack.app)
      .put('/v1/admin/calendar/2027')
      .set('Authorization', `Bearer ${admin}`)
      .send({ holidays: { '2027-01-01': '元旦', '2027-01-04': '元旦 (test)' }, workdays: {} });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ year: 2027, holidays: 2, workdays: 0, replanned: [`violation:${c.caseId}`, review.workflowId] });

    const replannedReview = await eventually(reviewState, (s) => s.deadline !== planned.deadline);
    expect(replannedReview.deadline).toBe('2027-01-06T15:59:59.999Z');
    expect(replannedReview.history.find((h) => h.type === 'deadline_replanned')?.details).toMatchObject({
      from: '2027-01-05T15:59:59.999Z',
      deadline: '2027-01-06T15:59:59.999Z',
      provisional: false,
    });
    expect(await stack.db('verification_cases').where({ id: review.caseId }).first()).toMatchObject({
      deadline: new Date('2027-01-06T15:59:59.999Z'),
      deadline_provisional: false,
      overdue: false,
    });

    const replanned = await caseState(stack, c.caseId, (s) => s.decision?.appealDeadline !== '2027-01-05T15:59:59.999Z');
    expect(replanned.decision).toMatchObject({ appealDeadline: '2027-01-06T15:59:59.999Z', appealDeadlineProvisional: false });
    expect(await stack.db('violation_cases').where({ id: c.caseId }).first()).toMatchObject({
      appeal_deadline: new Date('2027-01-06T15:59:59.999Z'),
      appeal_deadline_provisional: false,
    });
    expect(await stack.db('violation_events').where({ case_id: c.caseId }).whereLike('type', 'appeal_deadline_replanned%').first()).toMatchObject({
      details: { from: '2027-01-05T15:59:59.999Z', to: '2027-01-06T15:59:59.999Z', provisional: false },
    });
    expect((await caseHandle(stack, c.caseId).describe()).searchAttributes.ProvisionalDeadline).toEqual([false]);
    const history = await caseHandle(stack, c.caseId).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'calendarUpdated')).toBe(true);
    const audit = await stack.db('audit_log').where({ target: 'calendar:2027', outcome: 'succeeded' });
    expect(audit).toMatchObject([{ action: 'calendar.load', actor_sub: 'ada', actor_role: 'admin', status_code: 200 }]);

    // The window now runs to the new deadline: on 6 January the appeal is still in time.
    await sleepUntil(shanghai('2027-01-06T20:00:00'));
    const appealed = await caseHandle(stack, c.caseId).executeUpdate(appealUpdate, { args: [{ statement: 'the price was a typo', actor: 'merchant' }] });
    expect(appealed.status).toBe('appealed');
  });

  test('loading a year is for admins, and a year that is not its own, lists a day both ways or has no day off is refused and stores nothing', async () => {
    const put = async (role: 'admin' | 'ops', year: string, body: unknown) =>
      request(stack.app)
        .put(`/v1/admin/calendar/${year}`)
        .set('Authorization', `Bearer ${await stack.token({ sub: 'ada', role })}`)
        .send(body as object);
    const ok = { holidays: { '2028-01-01': '元旦' }, workdays: {} };
    expect((await put('ops', '2028', ok)).status).toBe(403);
    const refused = [
      ['2028', { holidays: { '2029-01-01': '元旦' }, workdays: {} }, 'holidays.2029-01-01'],
      ['2028', { holidays: { '2028-01-01': '元旦' }, workdays: { '2028-01-01': '元旦' } }, 'workdays.2028-01-01'],
      ['2028', { holidays: {}, workdays: {} }, 'holidays'],
      ['2028', { holidays: { '2028-02-30': 'no such day' }, workdays: {} }, 'holidays.2028-02-30'],
      ['1999', ok, 'year'],
      ['2028', { ...ok, extra: true }, '(root)'],
    ] as const;
    for (const [year, body, path] of refused) {
      const res = await put('admin', year, body);
      expect({ path, status: res.status, paths: res.body.issues?.map((i: { path: string }) => i.path) }).toEqual({ path, status: 400, paths: expect.arrayContaining([path]) });
    }
    expect(await stack.db('calendar_years').where({ year: 2028 })).toEqual([]);
  });
});
