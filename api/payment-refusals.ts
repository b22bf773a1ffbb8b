import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, rootCause } from '@temporalio/common';
import { ErrorType } from '../domain/errors';
import { conflict, HttpError } from './errors';

/** The ApplicationFailure somewhere in a failure's cause chain, if any. */
function applicationFailureIn(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}

/**
 * A top-up the deposit process refused because of its payment, as the API answers it:
 * pending is a 409 to retry later, an unknown payment a 404, a failed or mismatched one a
 * 409 that retrying will not change. Any other refusal is a plain 409.
 */
export async function paymentRefusalsMapped<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw conflict(`${what} has no running process`);
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    const failure = applicationFailureIn(err.cause);
    const message = rootCause(err.cause) ?? err.message;
    switch (failure?.type) {
      case ErrorType.PaymentPending:
        throw new HttpError(409, 'payment_pending', message, { retryable: true });
      case ErrorType.PaymentNotFound:
        throw new HttpError(404, 'payment_not_found', message);
      case ErrorType.PaymentFailed:
        throw new HttpError(409, 'payment_failed', message, { retryable: false });
      case ErrorType.PaymentMismatch:
        throw new HttpError(409, 'payment_mismatch', message, { retryable: false });
      default:
        throw conflict(message);
    }
  }
}
