import { createWorkingDayCalendar, workingDayDeadline } from '../../domain/calendar';
import { appealUpdate } from '../../workflows/violation-case.defs';
import { TEST_CALENDAR_EXTRA } from '../support/calendar';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { caseHandle, caseState, openViolation } from '../support/violations';

/** A wall-clock time in Shanghai (UTC+8). */
const shanghai = (local: string) => Date.parse(`${local}+08:00`);

// A stack of its own: the test moves the server's clock to the turn of the year.
describe('appeal window on the working-day calendar (time-skipping)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const sleepUntil = async (instant: number) => stack.env.sleep(instant - (await stack.env.currentTimeMs()));
  const appeal = (caseId: string) => caseHandle(stack, caseId).executeUpdate(appealUpdate, { args: [{ statement: 'the price was a typo', actor: 'merchant' }] });

  test('a serious case opened on 30 December may be appealed until the end of 5 January, not after', async () => {
    const onTime = await openShop(stack, 'm-appeal-on-time');
    const late = await openShop(stack, 'm-appeal-late');
    const openedAt = shanghai('2026-12-30T10:00:00');
    await sleepUntil(openedAt);

    const a = await openViolation(stack, { merchantId: 'm-appeal-on-time', shopId: onTime.shopId, type: 'price_violation', level: 'serious' });
    const b = await openViolation(stack, { merchantId: 'm-appeal-late', shopId: late.shopId, type: 'price_violation', level: 'serious' });
    const stateA = await caseState(stack, a.caseId, (s) => s.status === 'appealable');
    await caseState(stack, b.caseId, (s) => s.status === 'appealable');

    // 3 working days after 30 December: 31 December, then (New Year's Day and the weekend off) 4 and 5 January.
    const deadline = '2027-01-05T15:59:59.999Z';
    expect(workingDayDeadline(new Date(openedAt), 3, createWorkingDayCalendar(TEST_CALENDAR_EXTRA)).toISOString()).toBe(deadline);
    expect(stateA.decision?.appealDeadline).toBe(deadline);

    // 23:00 on the last working day of the window: accepted.
    await sleepUntil(shanghai('2027-01-05T23:00:00'));
    expect((await appeal(a.caseId)).status).toBe('appealed');

    // Half an hour into the next day: refused, naming the deadline missed.
    await sleepUntil(shanghai('2027-01-06T00:30:00'));
    await expect(appeal(b.caseId)).rejects.toMatchObject({ cause: { message: `the appeal window closed at ${deadline}` } });
    const closed = await caseState(stack, b.caseId, (s) => s.status === 'in_effect');
    expect(closed.appeal).toBeNull();
    expect(await stack.db('violation_cases').where({ id: a.caseId }).first()).toMatchObject({ status: 'appealed', appeal: { statement: 'the price was a typo' } });
  });
});
