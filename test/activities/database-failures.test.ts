import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../config/config';
import { isPermanentDatabaseError, permanentDatabaseFailure } from '../../activities/database-failures';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { ErrorType } from '../../domain/errors';
import { activityDepsFrom, createActivities } from '../../worker/dependencies';
import { createTestDb, type TestDb } from '../support/db';

describe('which database errors are permanent', () => {
  test.each([
    ['22021 a NUL byte in text', '22021', true],
    ['22P05 a NUL byte in jsonb', '22P05', true],
    ['22001 too long', '22001', true],
    ['23514 a check (the ledger refuses an unbalanced transaction)', '23514', true],
    ['23502 not null', '23502', true],
    ['23505 a unique key another writer took first: a race', '23505', false],
    ['23503 a row another process has not written yet: a race', '23503', false],
    ['40001 serialization failure', '40001', false],
    ['40P01 deadlock', '40P01', false],
    ['08006 connection lost', '08006', false],
    ['57P01 the server shutting down', '57P01', false],
  ])('%s', (_name, code, permanent) => {
    expect(isPermanentDatabaseError(code)).toBe(permanent);
    const failure = permanentDatabaseFailure('someStep', Object.assign(new Error('insert into t values ($1) - secret'), { code }));
    expect(failure?.nonRetryable ?? false).toBe(permanent);
  });

  test('a driver error wrapped in another is found on its cause chain; anything without a SQLSTATE is left alone', () => {
    const wrapped = new Error('repository failed', { cause: Object.assign(new Error('x'), { code: '22P05' }) });
    expect(permanentDatabaseFailure('s', wrapped)?.type).toBe(ErrorType.DataRejected);
    expect(permanentDatabaseFailure('s', new Error('ECONNRESET'))).toBeUndefined();
    expect(permanentDatabaseFailure('s', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });
});

/** The activities the worker registers, on a real database: a refused value fails once, for good. */
describe('every registered activity fails for good on data the database refuses', () => {
  let testDb: TestDb;
  let activities: ReturnType<typeof createActivities>;
  const env = new MockActivityEnvironment();
  beforeAll(async () => {
    testDb = await createTestDb();
    activities = createActivities(activityDepsFrom(loadConfig({ NODE_ENV: 'test' }), testDb.db));
    await createMerchantRepository(testDb.db).ensureMerchant({ id: 'm-nul', entityType: 'individual', legalName: '张三' });
    await createVerificationCaseRepository(testDb.db).insertCase({
      id: 'vc_nul',
      merchantId: 'm-nul',
      workflowId: 'verification:m-nul',
      runId: 'run-1',
      entityType: 'individual',
      legalName: '张三',
      submittedAt: new Date('2026-11-02T02:00:00Z'),
    });
  });
  afterAll(async () => {
    await testDb?.destroy();
  });

  const expectPermanent = async (step: string, run: Promise<unknown>, secret: string) => {
    const failure = await run.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const f = failure as ApplicationFailure;
    expect({ type: f.type, nonRetryable: f.nonRetryable }).toEqual({ type: ErrorType.DataRejected, nonRetryable: true });
    expect(f.message).toContain(`${step} failed for good`);
    // Neither the SQL nor the value reaches history, the Web UI or an API answer.
    expect(f.message).not.toMatch(/insert|update|select|verification_events|violation_cases/i);
    expect(f.message).not.toContain(secret);
    expect(f.cause).toBeUndefined();
  };

  test("a reviewer's reason holding NUL: recordCaseEvent", async () => {
    const event = { seq: 1, type: 'rejected', actor: 'reviewer:rui', at: '2026-11-03T02:00:00Z', details: { reasons: ['private note\u0000'] } };
    await expectPermanent('recordCaseEvent', env.run(activities.recordCaseEvent, { caseId: 'vc_nul', merchantId: 'm-nul', event, patch: {} }), 'private note');
    expect(await testDb.db('verification_events').where({ case_id: 'vc_nul' })).toEqual([]);
  });

  test('an appeal statement holding NUL: recordViolationStatus', async () => {
    const appeal = { filedAt: '2026-11-03T02:00:00Z', statement: 'my words\u0000', filedBy: 'u-m', decision: null, decidedBy: null, decidedAt: null, reasons: [] };
    await expectPermanent(
      'recordViolationStatus',
      env.run(activities.recordViolationStatus, { caseId: 'vio_nul', status: 'appealed' as const, event: 'appeal_filed', asOf: appeal.filedAt, appeal, details: { statement: appeal.statement } }),
      'my words',
    );
  });
});
