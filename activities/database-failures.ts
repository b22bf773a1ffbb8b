import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors';

/**
 * Which database errors a retry cannot cure. Class 22 (data exceptions: a NUL byte, a value
 * out of range, bad encoding) and class 23 (integrity violations) come back the same on
 * every attempt. Two kinds of 23 are races, so they stay retryable: a unique violation
 * (another writer inserted the same key first; the retry finds its row) and a foreign key
 * violation (the row it points at is written by another process, e.g. the API right after
 * it starts a workflow). Serialization failures (40001) and deadlocks (40P01) are races too.
 */
const RACES = new Set(['23505', '23503', '40001', '40P01']);

const KNOWN: Record<string, string> = {
  '22001': 'a value too long for its column',
  '22003': 'a number out of range',
  '22007': 'an invalid date or time',
  '22P02': 'a value of the wrong type',
  '22021': 'a character it cannot store',
  '22P05': 'a character it cannot store',
  '23502': 'a required value missing',
  '23514': 'a value its checks refuse',
  '23P01': 'a value its exclusion constraint refuses',
};

/** The SQLSTATE of a database error anywhere on an error's cause chain. */
export function sqlStateOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function isPermanentDatabaseError(sqlState: string | undefined): sqlState is string {
  return sqlState !== undefined && (sqlState.startsWith('22') || sqlState.startsWith('23')) && !RACES.has(sqlState);
}

/**
 * A non-retryable failure naming the step that failed and the SQLSTATE, or undefined when a
 * retry may help. It never quotes the driver's message: that carries the SQL and the value,
 * and this message lands in workflow history, the Web UI and API answers.
 */
export function permanentDatabaseFailure(step: string, err: unknown): ApplicationFailure | undefined {
  const sqlState = sqlStateOf(err);
  if (!isPermanentDatabaseError(sqlState)) return undefined;
  const what = KNOWN[sqlState] ?? (sqlState.startsWith('22') ? 'data it cannot store' : 'a change its integrity rules refuse');
  return ApplicationFailure.create({
    type: ErrorType.DataRejected,
    message: `${step} failed for good: the database refused ${what} (SQLSTATE ${sqlState}); retrying would not help`,
    nonRetryable: true,
  });
}

type ActivityFn = (...args: never[]) => Promise<unknown>;

/**
 * Every activity of a map, each turning a database error no retry can cure into a
 * non-retryable failure. Applied once to the whole map the worker registers, so no activity
 * (present or future) can loop for ever on the same refused row.
 */
export function withPermanentDatabaseFailures<T extends Record<string, ActivityFn>>(activities: T): T {
  const wrapped: Record<string, ActivityFn> = {};
  for (const [name, run] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await run(...args);
      } catch (err) {
        throw permanentDatabaseFailure(name, err) ?? err;
      }
    };
  }
  return wrapped as T;
}
