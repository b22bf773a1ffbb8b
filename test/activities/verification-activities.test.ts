import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createVerificationActivities, type VerificationActivities } from '../../activities/verification';
import { createIdentityKeyRepository, type IdentityKeyRepository } from '../../db/repositories/identity-keys';
import { createMerchantRepository, type MerchantRepository } from '../../db/repositories/merchants';
import type { ShopRow } from '../../db/repositories/shops';
import {
  createVerificationCaseRepository,
  type CaseEventRow,
  type CasePatch,
  type CaseRow,
  type VerificationCaseRepository,
} from '../../db/repositories/verification-cases';
import { createWorkingDayCalendar, type WorkingDayCalendar } from '../../domain/calendar';
import { provisionalYear } from '../../domain/provisional-calendar';
import { ErrorType } from '../../domain/errors';
import { DEFAULT_REVIEW_POLICY } from '../../domain/verification';
import type { NotificationInput, PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

const calendar = createWorkingDayCalendar();
const DAY_MS = 24 * 60 * 60 * 1000;

function caseRow(id: string, merchantId: string): CaseRow {
  return {
    id,
    merchant_id: merchantId,
    workflow_id: `verification:${merchantId}`,
    run_id: 'run-1',
    kind: 'verification',
    entity_type: 'individual',
    legal_name: '张三',
    status: 'in_review',
    submitted_at: new Date('2026-03-02T02:00:00Z'),
    deadline: null,
    overdue: false,
    resubmit_by: null,
    closed_at: null,
  };
}

/** Just the repository methods the activities call, recording what they were given. */
function fakeCases(rows: CaseRow[] = []) {
  const applied: { event: CaseEventRow; patch: CasePatch }[] = [];
  const fake: Pick<VerificationCaseRepository, 'findCase' | 'applyEvent'> = {
    async findCase(caseId) {
      return rows.find((r) => r.id === caseId);
    },
    async applyEvent(event, patch) {
      applied.push({ event, patch });
      return { applied: true };
    },
  };
  return { repo: fake as VerificationCaseRepository, applied };
}

function fakeMerchants() {
  const statuses: { merchantId: string; status: string }[] = [];
  const verified: Parameters<MerchantRepository['markVerified']>[0][] = [];
  const fake: Pick<MerchantRepository, 'setVerificationStatus' | 'markVerified'> = {
    async setVerificationStatus(merchantId, status) {
      statuses.push({ merchantId, status });
    },
    async markVerified(input): Promise<ShopRow> {
      verified.push(input);
      return { id: `shop-${input.merchantId}`, merchant_id: input.merchantId, shop_type: input.entityType, status: 'open', opened_by_case_id: input.caseId };
    },
  };
  return { repo: fake as MerchantRepository, statuses, verified };
}

function fakePlatform() {
  const calls: { input: NotificationInput; idempotencyKey: string }[] = [];
  const unused = () => Promise.reject(new Error('the verification review does not call this'));
  const platform: PlatformClient = {
    async notify(input, idempotencyKey) {
      calls.push({ input, idempotencyKey });
      return { notificationId: `n-${calls.length}`, acceptedAt: '2026-03-02T02:00:00.000Z' };
    },
    setRestrictions: unused,
    setPartnerLinks: unused,
    upsertListings: unused,
    holdListings: unused,
    delistProducts: unused,
    relistProducts: unused,
    transferProceeds: unused,
    payment: unused,
    refund: unused,
    monthlySales: unused,
    shopOrders: unused,
    payout: unused,
    payoutBatch: unused,
    orderRefundBatch: unused,
    compensateOrder: unused,
    orderFeed: unused,
  };
  return { platform, calls };
}

/**
 * Runs an activity inside a mock activity context (needed for `log` and failures). The
 * arguments are typed by the activity: MockActivityEnvironment.run infers them from the
 * call site, which widens literal unions such as the entity type.
 */
function runnerIn(env: MockActivityEnvironment) {
  return <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: NoInfer<A>): Promise<R> => env.run(activity, ...args);
}

/** A mock activity context whose log lines are kept for assertions instead of printed. */
function quietActivityEnvironment(logs: LogEntry[] = []): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('INFO', (entry) => logs.push(entry)) });
}

function setup(rows: CaseRow[] = [], cal: WorkingDayCalendar = calendar) {
  const cases = fakeCases(rows);
  const merchants = fakeMerchants();
  const platform = fakePlatform();
  const activities = createVerificationActivities({
    cases: cases.repo,
    merchants: merchants.repo,
    // Cases without a keyed identity number: the claim itself is tested over the real repositories.
    identityKeys: { latestIdentityOf: async () => undefined } as unknown as IdentityKeyRepository,
    platform: platform.platform,
    calendar: cal,
    policy: DEFAULT_REVIEW_POLICY,
  });
  const logs: LogEntry[] = [];
  return { activities, cases, merchants, platform, logs, run: runnerIn(quietActivityEnvironment(logs)) };
}

/** The ApplicationFailure an activity threw, or a test failure if it threw anything else. */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('verification activities (fakes)', () => {
  describe('planReviewDeadline', () => {
    test.each([
      // Mon 2 Mar 2026, 10:00 Shanghai: Tue, Wed, Thu.
      ['individual', '2026-03-02T02:00:00Z', '2026-03-05T15:59:59.999Z', 3],
      // Fri 6 Mar 23:30 Shanghai (15:30Z): the day of submission never counts; Mon, Tue, Wed.
      ['individual', '2026-03-06T15:30:00Z', '2026-03-11T15:59:59.999Z', 3],
      // Mon 2 Mar 2026: Tue to Mon.
      ['enterprise', '2026-03-02T02:00:00Z', '2026-03-09T15:59:59.999Z', 5],
      // Tue 29 Sep 10:00 Shanghai: 30 Sep, then National Day (1–7 Oct) is off, 8, 9, Sat 10 (调休 上班), Mon 12.
      ['enterprise', '2026-09-29T02:00:00Z', '2026-10-12T15:59:59.999Z', 5],
    ] as const)('%s submitted at %s is due at %s (%i working days)', async (entityType, submittedAt, deadline, workingDays) => {
      const { activities, run } = setup();
      await expect(run(activities.planReviewDeadline, { entityType, submittedAt })).resolves.toEqual({ deadline, workingDays, provisional: false });
    });

    test('on the calendar the worker uses, days of a year without official data count provisionally instead of failing', async () => {
      const { activities, run } = setup([], createWorkingDayCalendar(undefined, { provisional: provisionalYear }));
      // Mon 28 Dec 2026: 29, 30, 31 Dec, then (1 Jan off, a weekend) 4 and 5 Jan 2027.
      await expect(run(activities.planReviewDeadline, { entityType: 'enterprise', submittedAt: '2026-12-28T02:00:00Z' })).resolves.toEqual({
        deadline: '2027-01-05T15:59:59.999Z',
        workingDays: 5,
        provisional: true,
      });
    });

    test('a year the calendar has no data for is a RETRYABLE CalendarYearNotLoaded failure, so ops can load it and the case goes on', async () => {
      const { activities, run, logs } = setup();
      const failure = await failureOf(run(activities.planReviewDeadline, { entityType: 'individual', submittedAt: '2027-03-01T02:00:00Z' }));
      expect(failure.type).toBe(ErrorType.CalendarYearNotLoaded);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.details).toEqual([{ year: 2027 }]);
      // Each attempt logs an error naming the year, which is how ops learn what to load.
      expect(logs).toContainEqual(expect.objectContaining({ level: 'ERROR', meta: expect.objectContaining({ year: 2027 }) }));
    });

    test('a 2026 submission whose working days run into 2027 fails the same way rather than guessing', async () => {
      const { activities, run } = setup();
      const failure = await failureOf(run(activities.planReviewDeadline, { entityType: 'enterprise', submittedAt: '2026-12-29T02:00:00Z' }));
      expect(failure).toMatchObject({ type: ErrorType.CalendarYearNotLoaded, nonRetryable: false });
    });
  });

  test('planResubmissionDeadline gives the merchant the policy window of 7 calendar days', async () => {
    const { activities, run } = setup();
    const requestedAt = '2026-03-02T02:00:00.000Z';
    const plan = await run(activities.planResubmissionDeadline, { requestedAt });
    expect(plan).toEqual({ resubmitBy: '2026-03-09T02:00:00.000Z', windowDays: 7 });
    expect(Date.parse(plan.resubmitBy) - Date.parse(requestedAt)).toBe(7 * DAY_MS);
  });

  describe('openCase', () => {
    test('passes when the API has recorded the case', async () => {
      const { activities, run } = setup([caseRow('vc_1', 'm-1')]);
      await expect(run(activities.openCase, { caseId: 'vc_1', merchantId: 'm-1' })).resolves.toBeUndefined();
    });

    test('a missing case is a RETRYABLE SubmissionNotRecorded failure (the API transaction may still land)', async () => {
      const { activities, run } = setup();
      const failure = await failureOf(run(activities.openCase, { caseId: 'vc_missing', merchantId: 'm-1' }));
      expect(failure).toMatchObject({ type: ErrorType.SubmissionNotRecorded, nonRetryable: false });
    });
  });

  describe('recordCaseEvent', () => {
    const event = { seq: 2, type: 'deadline_set', actor: 'system', at: '2026-03-02T02:00:01.000Z', details: { workingDays: 3 } };

    test('writes the event and the patch with Dates, leaving fields the patch omits untouched', async () => {
      const { activities, cases, merchants, run } = setup();
      await run(activities.recordCaseEvent, {
        caseId: 'vc_1',
        merchantId: 'm-1',
        event,
        patch: { deadline: '2026-03-05T15:59:59.999Z', overdue: false, resubmitBy: null },
      });
      expect(cases.applied).toHaveLength(1);
      const { event: row, patch } = cases.applied[0];
      expect(row).toEqual({ case_id: 'vc_1', seq: 2, type: 'deadline_set', actor: 'system', at: new Date(event.at), details: { workingDays: 3 } });
      expect(row.at).toBeInstanceOf(Date);
      expect(patch.deadline).toBeInstanceOf(Date);
      expect(patch).toEqual({
        status: undefined,
        deadline: new Date('2026-03-05T15:59:59.999Z'),
        overdue: false,
        resubmitBy: null,
        closedAt: undefined,
      });
      // No status change: the merchant's record is left alone.
      expect(merchants.statuses).toEqual([]);
    });

    test.each([
      ['in_review', 'in_review'],
      ['awaiting_resubmission', 'in_review'],
      ['approved', 'verified'],
      ['rejected', 'rejected'],
      ['abandoned', 'abandoned'],
    ] as const)('a case at %s puts the merchant at %s', async (caseStatus, merchantStatus) => {
      const { activities, cases, merchants, run } = setup();
      await run(activities.recordCaseEvent, {
        caseId: 'vc_1',
        merchantId: 'm-1',
        event: { ...event, seq: 3, type: caseStatus },
        patch: { status: caseStatus, closedAt: '2026-03-03T01:00:00.000Z' },
      });
      expect(cases.applied[0].patch).toMatchObject({ status: caseStatus, closedAt: new Date('2026-03-03T01:00:00.000Z') });
      expect(merchants.statuses).toEqual([{ merchantId: 'm-1', status: merchantStatus }]);
    });
  });

  describe('platform calls carry idempotency keys from the business request', () => {
    const escalation = { caseId: 'vc_1', merchantId: 'm-1', deadline: '2026-03-05T15:59:59.999Z' };

    test('escalateOverdueCase: a retry sends the same key, a later deadline (a new review round) a new one', async () => {
      const { activities, platform, run } = setup();
      await run(activities.escalateOverdueCase, escalation);
      await run(activities.escalateOverdueCase, { ...escalation });
      await run(activities.escalateOverdueCase, { ...escalation, deadline: '2026-03-12T15:59:59.999Z' });
      const keys = platform.calls.map((c) => c.idempotencyKey);
      expect(keys[0]).toBe(keys[1]);
      expect(keys[2]).not.toBe(keys[0]);
      expect(keys[0]).toContain('vc_1');
      expect(platform.calls[0].input).toEqual({
        recipient: 'supervisor',
        merchantId: 'm-1',
        template: 'verification_overdue',
        data: { caseId: 'vc_1', deadline: escalation.deadline },
      });
    });

    test('notifyMerchant: a retry sends the same key, another event of the case a new one', async () => {
      const { activities, platform, run } = setup();
      const info = { caseId: 'vc_1', merchantId: 'm-1', seq: 3, template: 'verification_info_requested' };
      await run(activities.notifyMerchant, info);
      await run(activities.notifyMerchant, { ...info });
      await run(activities.notifyMerchant, { ...info, seq: 5, template: 'verification_abandoned' });
      await run(activities.notifyMerchant, { ...info, caseId: 'vc_2' });
      const keys = platform.calls.map((c) => c.idempotencyKey);
      expect(keys[0]).toBe(keys[1]);
      expect(new Set(keys).size).toBe(3);
      expect(platform.calls[0].input).toEqual({
        recipient: 'merchant',
        merchantId: 'm-1',
        template: 'verification_info_requested',
        data: { caseId: 'vc_1' },
      });
    });
  });

  describe('activateMerchant', () => {
    test('verifies the merchant under the legal name of the case and returns its shop', async () => {
      const { activities, merchants, run } = setup([caseRow('vc_1', 'm-1')]);
      const result = await run(activities.activateMerchant, { caseId: 'vc_1', merchantId: 'm-1', entityType: 'individual' });
      expect(result).toEqual({ shopId: 'shop-m-1' });
      expect(merchants.verified).toEqual([
        { merchantId: 'm-1', caseId: 'vc_1', entityType: 'individual', legalName: '张三', at: expect.any(Date) },
      ]);
    });

    test('a missing case is a NON-retryable RecordNotFound failure', async () => {
      const { activities, merchants, run } = setup();
      const failure = await failureOf(run(activities.activateMerchant, { caseId: 'vc_missing', merchantId: 'm-1', entityType: 'individual' }));
      expect(failure).toMatchObject({ type: ErrorType.RecordNotFound, nonRetryable: true });
      expect(merchants.verified).toEqual([]);
    });
  });
});

describe('verification activities over the real repositories', () => {
  let testDb: TestDb;
  let activities: VerificationActivities;
  const run = runnerIn(quietActivityEnvironment());

  beforeAll(async () => {
    testDb = await createTestDb();
    activities = createVerificationActivities({
      cases: createVerificationCaseRepository(testDb.db),
      merchants: createMerchantRepository(testDb.db),
      identityKeys: createIdentityKeyRepository(testDb.db),
      platform: fakePlatform().platform,
      calendar,
      policy: DEFAULT_REVIEW_POLICY,
    });
  });
  afterAll(async () => {
    await testDb?.destroy();
  });

  async function recordedCase(merchantId: string, caseId: string): Promise<void> {
    await createMerchantRepository(testDb.db).ensureMerchant({ id: merchantId, entityType: 'individual', legalName: '张三' });
    await createVerificationCaseRepository(testDb.db).insertCase({
      id: caseId,
      merchantId,
      workflowId: `verification:${merchantId}`,
      runId: 'run-1',
      entityType: 'individual',
      legalName: '张三',
      submittedAt: new Date('2026-03-02T02:00:00Z'),
    });
  }

  test('recordCaseEvent retried with the same seq writes one event row, and the case row carries the patch', async () => {
    await recordedCase('m-retry', 'vc_retry');
    const input = {
      caseId: 'vc_retry',
      merchantId: 'm-retry',
      event: { seq: 1, type: 'info_requested', actor: 'reviewer:rui', at: '2026-03-03T02:00:00.000Z', details: { reasons: ['blurred'] } },
      patch: { status: 'awaiting_resubmission' as const, resubmitBy: '2026-03-10T02:00:00.000Z', overdue: false },
    };
    await run(activities.recordCaseEvent, input);
    await run(activities.recordCaseEvent, input);

    const events = await testDb.db('verification_events').where({ case_id: 'vc_retry' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ seq: 1, type: 'info_requested', actor: 'reviewer:rui', details: { reasons: ['blurred'] } });
    expect(new Date(events[0].at).toISOString()).toBe('2026-03-03T02:00:00.000Z');
    const row = await testDb.db('verification_cases').where({ id: 'vc_retry' }).first();
    expect(row).toMatchObject({ status: 'awaiting_resubmission', overdue: false });
    expect(new Date(row.resubmit_by).toISOString()).toBe('2026-03-10T02:00:00.000Z');
    expect(await testDb.db('merchants').where({ id: 'm-retry' }).first()).toMatchObject({ verification_status: 'in_review' });
  });

  test('activateMerchant run twice (markVerified) opens one shop and verifies the merchant', async () => {
    await recordedCase('m-twice', 'vc_twice');
    const input = { caseId: 'vc_twice', merchantId: 'm-twice', entityType: 'individual' as const };
    const first = await run(activities.activateMerchant, input);
    const second = await run(activities.activateMerchant, input);
    expect(second).toEqual(first);

    const shops = await testDb.db('shops').where({ merchant_id: 'm-twice' });
    expect(shops).toHaveLength(1);
    expect(shops[0]).toMatchObject({ id: first.shopId, shop_type: 'individual', opened_by_case_id: 'vc_twice', status: 'open' });
    const merchant = await testDb.db('merchants').where({ id: 'm-twice' }).first();
    expect(merchant).toMatchObject({ verification_status: 'verified', legal_name: '张三' });
    expect(merchant.verified_at).not.toBeNull();
  });
});
