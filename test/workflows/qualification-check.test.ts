import { Client } from '@temporalio/client';
import { createQualificationRepository } from '../../db/repositories/qualifications';
import { shanghaiDate } from '../../domain/calendar';
import { epochDayOf, isoDateOfEpochDay, requireIsoDate } from '../../domain/civil-date';
import { daysUntil, nextScheduledCheckOn, qualificationCaseReference } from '../../domain/qualifications';
import { QUALIFICATION_CHECK_WORKFLOW_TYPE, qualificationCheckWorkflowId, type QualificationCheckResult } from '../../workflows/qualification-check.defs';
import { eventually } from '../support/fixtures';
import { openShop, platformShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

describe('the monthly qualification check (time-skipping, real activities)', () => {
  let stack: Stack;
  // Waits without skipping time: the clock moves only where the test sleeps.
  let client: Client;
  beforeAll(async () => {
    stack = await startStack();
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const today = async () => shanghaiDate(new Date(await stack.env.currentTimeMs()));
  const plusDays = (date: string, days: number) => isoDateOfEpochDay(epochDayOf(requireIsoDate(date)) + days);
  const runCheck = async (pageSize?: number): Promise<QualificationCheckResult> => {
    const month = (await today()).slice(0, 7);
    return client.workflow.execute(QUALIFICATION_CHECK_WORKFLOW_TYPE, {
      workflowId: qualificationCheckWorkflowId(month),
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ month, pageSize }],
    }) as Promise<QualificationCheckResult>;
  };
  const expiryNotices = (merchantId: string) => stack.sandbox.state.notifications.filter((n) => n.merchantId === merchantId && n.template === 'qualification_expiring');

  test('a licence expiring across skipped time: told once, at least 30 days ahead, one case after expiry, API permission closed; a renewed or re-entered one is no new finding', async () => {
    const merchantId = 'm-licence';
    const { shopId } = await openShop(stack, merchantId);
    const qualifications = createQualificationRepository(stack.db);
    const start = await today();
    const nextCheck = nextScheduledCheckOn(start);
    // 45 days after the next scheduled check: not yet worth a word today.
    const expiresOn = plusDays(nextCheck, 45);
    const record = (id: string, kind: 'business_licence' | 'food_licence', expires: string) =>
      qualifications.record({ id, merchantId, shopId, kind, numberMasked: '****0Y43', validFrom: plusDays(start, -300), expiresOn: expires, recordedBy: 'ops:olga', verification: 'verified' });
    await record('qual_licence', 'business_licence', expiresOn);
    // A food licence that runs out within days, renewed in time: the renewal supersedes it.
    await record('qual_food_old', 'food_licence', plusDays(start, 3));
    await record('qual_food_new', 'food_licence', plusDays(start, 400));

    // 45 days left at the next check: nothing to say yet.
    expect(await runCheck()).toMatchObject({ checked: 0, notified: 0, casesOpened: 0 });
    expect(expiryNotices(merchantId)).toEqual([]);

    // The day after that check: fewer than 30 days would be left at the one after, so the merchant
    // is told now, still more than 30 days ahead, once, however often the month is checked.
    await stack.env.sleep((daysUntil(nextCheck, start) + 1) * 86_400_000);
    expect(daysUntil(expiresOn, await today())).toBeGreaterThanOrEqual(30);
    expect(await runCheck()).toMatchObject({ checked: 1, expiring: 1, notified: 1, casesOpened: 0 });
    expect(await runCheck()).toMatchObject({ checked: 1, expiring: 1, notified: 0 });
    expect(expiryNotices(merchantId)).toEqual([expect.objectContaining({ data: expect.objectContaining({ qualificationId: 'qual_licence', kind: 'business_licence' }) })]);

    // Expired: one qualification-mismatch case, whose process closes the shop's API permission.
    await stack.env.sleep('50 days');
    expect(await runCheck()).toMatchObject({ checked: 1, expired: 1, casesOpened: 1, notified: 0 });
    const reference = qualificationCaseReference({ shopId, kind: 'business_licence', expiresOn });
    const cases = await stack.db('violation_cases').where({ shop_id: shopId });
    expect(cases).toEqual([expect.objectContaining({ type: 'qualification_mismatch', reference })]);
    await eventually(async () => [...platformShop(stack, shopId).restrictions], (r) => r.includes('disable_api'));

    // A re-run, even after ops enter the same licence again, answers the case it opened: no second case.
    await record('qual_licence_again', 'business_licence', expiresOn);
    expect(await runCheck()).toMatchObject({ checked: 1, expired: 1, casesOpened: 0 });
    expect(await stack.db('violation_cases').where({ shop_id: shopId })).toHaveLength(1);
    expect(expiryNotices(merchantId)).toHaveLength(1);
    const month = (await today()).slice(0, 7);
    expect(await qualifications.run(month)).toMatchObject({ status: 'completed', checked: 1, casesOpened: 0 });
  });

  test('the check pages through every qualification due, each page acting once', async () => {
    const merchantId = 'm-pages';
    const { shopId } = await openShop(stack, merchantId);
    const qualifications = createQualificationRepository(stack.db);
    const day = await today();
    const record = (kind: 'business_licence' | 'food_licence' | 'medical_device_licence', expiresOn: string) =>
      qualifications.record({ id: `qual_pages_${kind}`, merchantId, shopId, kind, numberMasked: null, validFrom: plusDays(day, -400), expiresOn, recordedBy: 'ops:olga', verification: 'verified' });
    await record('business_licence', plusDays(day, -1));
    await record('food_licence', plusDays(day, 30));
    await record('medical_device_licence', day);
    const before = await stack.db('violation_cases').whereNot({ shop_id: shopId });

    // With the first test's expired licence: four due, two a page.
    expect(await runCheck(2)).toMatchObject({ checked: 4, expired: 2, expiring: 2, notified: 2, casesOpened: 1 });
    expect(await stack.db('violation_cases').where({ shop_id: shopId }).pluck('reference')).toEqual([qualificationCaseReference({ shopId, kind: 'business_licence', expiresOn: plusDays(day, -1) })]);
    expect(await stack.db('violation_cases').whereNot({ shop_id: shopId })).toHaveLength(before.length);
    expect(expiryNotices(merchantId).map((n) => (n.data as { qualificationId: string }).qualificationId).sort()).toEqual(['qual_pages_food_licence', 'qual_pages_medical_device_licence']);
  });
});
