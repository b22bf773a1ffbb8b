import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createQualificationActivities } from '../../activities/qualifications';
import { createQualificationRepository } from '../../db/repositories/qualifications';
import { ErrorType } from '../../domain/errors';
import type { Client } from '@temporalio/client';
import type { NotificationInput, PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

/** A platform that refuses notifications for one merchant and accepts the rest; it knows no other call. */
function notifyingPlatform(refused: string) {
  const sent: Array<{ input: NotificationInput; key: string }> = [];
  const platform = {
    async notify(input: NotificationInput, key: string) {
      if (input.merchantId === refused) throw ApplicationFailure.create({ message: 'unknown merchant', type: ErrorType.PlatformRejected, nonRetryable: true });
      sent.push({ input, key });
      return { notificationId: `ntf-${sent.length}`, acceptedAt: '2026-12-01T00:00:00.000Z' };
    },
  } as unknown as PlatformClient;
  return { platform, sent };
}

describe('checkQualifications', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
    for (const merchantId of ['m-q-ok', 'm-q-refused']) {
      await t.db('merchants').insert({ id: merchantId, entity_type: 'individual', legal_name: 'x', verification_status: 'verified' });
      await t.db('shops').insert({ id: `shop-${merchantId}`, merchant_id: merchantId, shop_type: 'individual', opened_by_case_id: `vc-${merchantId}` });
      await createQualificationRepository(t.db).record({
        id: `qual-${merchantId}`,
        merchantId,
        shopId: `shop-${merchantId}`,
        kind: 'food_licence',
        numberMasked: null,
        validFrom: '2025-01-01',
        expiresOn: '2026-12-20',
        recordedBy: 'ops:olga',
        verification: 'verified',
      });
    }
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('a notice the platform refuses is skipped, not recorded, and does not stop the check; a retry sends nothing twice', async () => {
    const { platform, sent } = notifyingPlatform('m-q-refused');
    const check = createQualificationActivities({ db: t.db, platform }).checkQualifications;
    const input = { month: '2026-12', workflowId: 'qualification-check:2026-12', asOf: '2026-12-01T00:00:00.000Z', pageSize: 1 };
    const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

    expect(await env().run(check, input)).toEqual({ month: '2026-12', checkedOn: '2026-12-01', checked: 2, expiring: 2, expired: 0, notified: 1, casesOpened: 0, skipped: 1 });
    expect(sent.map((s) => s.key)).toEqual(['qualification-expiring:shop-m-q-ok:food_licence:2026-12-20']);
    expect(await t.db('qualification_notices').pluck('qualification_id')).toEqual(['qual-m-q-ok']);

    // The same run's retry (the mock's one run id): the notice its first attempt sent is still this run's.
    expect(await env().run(check, input)).toMatchObject({ checked: 2, notified: 1, skipped: 1 });
    expect(sent).toHaveLength(1);
    expect(await createQualificationRepository(t.db).run('2026-12')).toMatchObject({ status: 'completed', checkedOn: '2026-12-01', notified: 1, skipped: 1 });
  });
});

describe('checkQualifications: the same finding is acted on once, whatever row and attempt finds it', () => {
  let t: TestDb;
  const month = '2026-12';
  const asOf = '2026-12-01T00:00:00.000Z';
  const runOf = (runId: string) => ({ workflowExecution: { workflowId: `qualification-check:${month}`, runId } });
  const env = (runId: string) => new MockActivityEnvironment(runOf(runId), { logger: new DefaultLogger('ERROR') });
  const input = { month, workflowId: `qualification-check:${month}`, asOf, pageSize: 10 };
  const open = async (merchantId: string) => {
    await t.db('merchants').insert({ id: merchantId, entity_type: 'individual', legal_name: 'x', verification_status: 'verified' });
    await t.db('shops').insert({ id: `shop-${merchantId}`, merchant_id: merchantId, shop_type: 'individual', opened_by_case_id: `vc-${merchantId}` });
  };
  const record = (id: string, merchantId: string, expiresOn: string, verification: 'pending' | 'verified' = 'verified') =>
    createQualificationRepository(t.db).record({ id, merchantId, shopId: `shop-${merchantId}`, kind: 'food_licence', numberMasked: null, validFrom: '2025-01-01', expiresOn, recordedBy: 'ops:olga', verification });
  beforeEach(async () => {
    t = await createTestDb();
  });
  afterEach(async () => {
    await t?.destroy();
  });

  test('the same licence recorded again (a new row) is not notified again, and its case is not opened again', async () => {
    const { platform, sent } = notifyingPlatform('nobody');
    const check = createQualificationActivities({ db: t.db, platform }).checkQualifications;
    await open('m-again');
    await record('qual-again-1', 'm-again', '2026-12-20');
    expect(await env('run-1').run(check, input)).toMatchObject({ expiring: 1, notified: 1 });
    // Ops enter the same licence again (a typo fixed): a new id, the same shop, kind and expiry.
    await record('qual-again-2', 'm-again', '2026-12-20');
    expect(await env('run-2').run(check, input)).toMatchObject({ checked: 1, expiring: 1, notified: 0 });
    expect(sent.map((s) => s.key)).toEqual(['qualification-expiring:shop-m-again:food_licence:2026-12-20']);

    // Expired, its case opened on the first row: the second row is the same finding (no Temporal
    // client here: trying to open a case would fail the check).
    await open('m-expired');
    await record('qual-expired-1', 'm-expired', '2026-11-20');
    await createQualificationRepository(t.db).recordNotice({ finding: { shopId: 'shop-m-expired', kind: 'food_licence', expiresOn: '2026-11-20' }, qualificationId: 'qual-expired-1', notice: 'case_opened', caseId: 'vc-1', month: '2026-11', runId: 'run-0' });
    await record('qual-expired-2', 'm-expired', '2026-11-20');
    expect(await env('run-3').run(check, input)).toMatchObject({ expired: 1, casesOpened: 0, skipped: 0 });
  });

  test("a merchant's pending record is not what the check trusts, and supersedes nothing", async () => {
    const { platform, sent } = notifyingPlatform('nobody');
    const check = createQualificationActivities({ db: t.db, platform }).checkQualifications;
    await open('m-pending');
    await record('qual-ops', 'm-pending', '2026-12-20');
    const { superseded } = await record('qual-merchant', 'm-pending', '2054-12-20', 'pending');
    expect(superseded).toBeNull();
    expect(await env('run-1').run(check, input)).toMatchObject({ checked: 1, expiring: 1, notified: 1 });
    expect(sent.map((s) => s.input.data)).toEqual([expect.objectContaining({ qualificationId: 'qual-ops' })]);
  });

  test('a case the violation process refuses (a closed shop) is recorded with its reason and not tried again', async () => {
    const { platform } = notifyingPlatform('nobody');
    await open('m-closed');
    await t.db('shops').where({ id: 'shop-m-closed' }).update({ status: 'closed' });
    await record('qual-closed', 'm-closed', '2026-10-31');
    // Refused before any workflow starts: the client is never used.
    const temporal = {} as Client;
    const first = createQualificationActivities({ db: t.db, platform, temporal }).checkQualifications;
    expect(await env('run-1').run(first, input)).toMatchObject({ expired: 1, casesOpened: 0, skipped: 1 });
    expect(await t.db('qualification_notices').select('notice', 'reason', 'qualification_id')).toEqual([{ notice: 'case_refused', reason: 'shop_closed', qualification_id: 'qual-closed' }]);

    // Next month: not tried again (without a Temporal client, trying would fail the check).
    const later = createQualificationActivities({ db: t.db, platform }).checkQualifications;
    expect(await env('run-2').run(later, { ...input, month: '2027-01', asOf: '2027-01-01T00:00:00.000Z' })).toMatchObject({ expired: 1, skipped: 1 });
  });

  test("a retried attempt counts the notices its failed attempt sent as this run's", async () => {
    await open('m-retry-a');
    await open('m-retry-b');
    await record('qual-retry-a', 'm-retry-a', '2026-12-20');
    await record('qual-retry-b', 'm-retry-b', '2026-12-21');
    const sent: string[] = [];
    let failOnce = true;
    const platform = {
      async notify(n: NotificationInput, key: string) {
        // The platform is down after the first notice of the first attempt.
        if (n.merchantId === 'm-retry-b' && failOnce) {
          failOnce = false;
          throw new Error('platform unavailable');
        }
        sent.push(key);
        return { notificationId: `ntf-${sent.length}`, acceptedAt: asOf };
      },
    } as unknown as PlatformClient;
    const check = createQualificationActivities({ db: t.db, platform }).checkQualifications;
    await expect(env('run-r').run(check, input)).rejects.toThrow('platform unavailable');
    expect(await env('run-r').run(check, input)).toMatchObject({ expiring: 2, notified: 2 });
    expect(sent).toHaveLength(2);
    expect(await createQualificationRepository(t.db).run(month)).toMatchObject({ status: 'completed', notified: 2 });
    // Another run of the month (by hand) sent nothing itself.
    expect(await env('run-s').run(check, input)).toMatchObject({ expiring: 2, notified: 0 });
  });
});
