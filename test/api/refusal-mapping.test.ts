import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState, type QueryDefinition, type UpdateDefinition } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import type { HttpError } from '../../api/errors';
import { refusalAsHttp, runUpdate } from '../../api/process-seam';

/** The one table every route answers an update's refusal by, whichever process refused. */
describe('refusalAsHttp', () => {
  test.each([
    [ErrorType.PaymentPending, 409, 'payment_pending', { retryable: true }],
    [ErrorType.PaymentNotFound, 404, 'payment_not_found', {}],
    [ErrorType.PaymentFailed, 409, 'payment_failed', { retryable: false }],
    [ErrorType.PaymentMismatch, 409, 'payment_mismatch', { retryable: false }],
    [ErrorType.Forbidden, 403, 'forbidden', {}],
    [ErrorType.RecordNotFound, 404, 'not_found', {}],
    [ErrorType.DataRejected, 422, 'unprocessable', {}],
    [ErrorType.InsufficientBalance, 409, 'conflict', {}],
    ['Error', 409, 'conflict', {}],
    [undefined, 409, 'conflict', {}],
  ])('%s is %i %s', (type, status, code, extra) => {
    const answer = refusalAsHttp(type, 'the refusal in its own words', { status: 'in_review' });
    expect(answer).toMatchObject({ status, code, message: 'the refusal in its own words', extra: { status: 'in_review', ...extra } });
  });
});

describe('runUpdate answers a refusal by the type on its cause chain', () => {
  const update = { name: 'u' } as unknown as UpdateDefinition<unknown, [unknown]>;
  const stateQuery = { name: 'q' } as unknown as QueryDefinition<unknown>;

  /** A handle whose update fails with `err`. */
  const failingWith = (err: unknown) =>
    ({
      client: { withAbortSignal: (_signal: AbortSignal, run: () => Promise<unknown>) => run() },
      startUpdate: () => Promise.reject(err),
    }) as unknown as WorkflowHandle;
  const answerTo = (err: unknown) =>
    runUpdate(failingWith(err), { update, args: [{}], stateQuery, waitMs: 1_000, what: 'the step', whenEnded: 'shop s-1 has no running process', refusalExtra: { status: 'open' } }).catch(
      (e: unknown) => e as HttpError,
    );
  const failedUpdate = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);
  const fromActivity = (failure: ApplicationFailure) => {
    const activity = new ActivityFailure('activity failed', 'creditPayment', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, failure);
    return failedUpdate(activity);
  };

  test("a validator's refusal is a 409 in its words, with the caller's extra", async () => {
    expect(await answerTo(failedUpdate(ApplicationFailure.create({ message: 'case vc_1 is approved', type: 'Error' })))).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'case vc_1 is approved',
      extra: { status: 'open' },
    });
  });

  test("a step's payment refusal deep in the chain keeps its own status", async () => {
    const pending = ApplicationFailure.create({ message: 'payment p-1 is not confirmed yet', type: ErrorType.PaymentPending, nonRetryable: true });
    expect(await answerTo(fromActivity(pending))).toMatchObject({ status: 409, code: 'payment_pending', message: 'payment p-1 is not confirmed yet', extra: { retryable: true } });
  });

  test('a refusal of who asks is a 403; a missing record a 404; data the database refused a 422', async () => {
    const forbidden = ApplicationFailure.create({ message: 'who opened the case may not decide its appeal', type: ErrorType.Forbidden });
    expect(await answerTo(failedUpdate(forbidden))).toMatchObject({ status: 403, code: 'forbidden' });
    const missing = ApplicationFailure.create({ message: 'no deduction d-1 on shop s-1', type: ErrorType.RecordNotFound });
    expect(await answerTo(fromActivity(missing))).toMatchObject({ status: 404, message: 'no deduction d-1 on shop s-1' });
    const rejected = ApplicationFailure.create({ message: 'deduct failed for good', type: ErrorType.DataRejected });
    expect(await answerTo(fromActivity(rejected))).toMatchObject({ status: 422, code: 'unprocessable', message: 'deduct failed for good' });
  });

  test("any other step failure is a 409 with the root cause's message", async () => {
    const short = ApplicationFailure.create({ message: 'balance 100 fen is less than 200 fen', type: ErrorType.InsufficientBalance });
    expect(await answerTo(fromActivity(short))).toMatchObject({ status: 409, message: 'balance 100 fen is less than 200 fen' });
  });

  test('an ended process is a 409 in the words the caller gave', async () => {
    expect(await answerTo(new WorkflowNotFoundError('not found', 'deposit:s-1', undefined))).toMatchObject({
      status: 409,
      message: 'shop s-1 has no running process',
      extra: { status: 'open' },
    });
  });

  test('anything else passes as it came', async () => {
    const down = new Error('14 UNAVAILABLE');
    expect(await answerTo(down)).toBe(down);
  });
});
