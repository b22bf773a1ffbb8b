import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, rootCause, type QueryDefinition, type UpdateDefinition } from '@temporalio/common';
import { ErrorType } from '../domain/errors';
import { conflict, HttpError } from './errors';

/*
 * The one seam between the API and Temporal: a process starts through startProcess (its
 * start order is written there, activities/process-start.ts, as the ban's activity starts
 * closures too), and an update runs through runUpdate, which answers a refusal the same way
 * for every process (refusalAsHttp). Domain errors a start raises become HTTP in api/errors.ts.
 */
export { startProcess, type ProcessStart, type StartedProcess } from '../activities/process-start';

/** How long a route waits for an update before answering with where the process stands. */
export const DEFAULT_UPDATE_WAIT_MS = 5_000;

/**
 * An update the process accepted (or has not yet answered) that did not finish in time. The
 * error mapper answers it with 202 and the process's state: the update goes on, and the
 * caller reads the outcome later, instead of holding a request open while a step waits.
 */
export class UpdateStillRunning extends HttpError {
  constructor(
    what: string,
    state: unknown,
    /** False when the process had not even taken the update in yet (e.g. no worker running). */
    readonly accepted: boolean,
  ) {
    const said = accepted ? `${what} is still running` : `${what} is waiting for the process to take it`;
    super(202, 'accepted', `${said}; this is where it stands now`, { state, accepted });
  }
}

const TIMED_OUT = Symbol('timed out');

async function within<T>(ms: number, work: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How a refusal of a given ApplicationFailure type is answered, whichever process refused.
 * A type not here (a validator's plain Error, a business refusal) is a 409 with the refusal's
 * own words.
 */
const REFUSALS: Partial<Record<string, { status: number; code: string; extra?: Record<string, unknown>; namedInDetails?: boolean }>> = {
  // Not confirmed yet: the same request may succeed later.
  [ErrorType.PaymentPending]: { status: 409, code: 'payment_pending', extra: { retryable: true } },
  [ErrorType.PaymentNotFound]: { status: 404, code: 'payment_not_found' },
  [ErrorType.PaymentFailed]: { status: 409, code: 'payment_failed', extra: { retryable: false } },
  [ErrorType.PaymentMismatch]: { status: 409, code: 'payment_mismatch', extra: { retryable: false } },
  [ErrorType.Forbidden]: { status: 403, code: 'forbidden' },
  [ErrorType.RecordNotFound]: { status: 404, code: 'not_found' },
  // The database refused a step's data for good: the step's own message, never SQL.
  [ErrorType.DataRejected]: { status: 422, code: 'unprocessable' },
  // A binding check failed: its named refusal (code, differing fields) rides in the failure's details.
  [ErrorType.BindingRefused]: { status: 422, code: 'binding_refused', namedInDetails: true },
};

/** The named refusal a failure carries in its first detail ({ code, fields }), as body members. */
function namedRefusalOf(failure: ApplicationFailure): Record<string, unknown> {
  if (!failure.type || !REFUSALS[failure.type]?.namedInDetails) return {};
  const named = failure.details?.[0] as { code?: unknown; fields?: unknown } | undefined;
  return {
    ...(typeof named?.code === 'string' ? { refusal: named.code } : {}),
    ...(Array.isArray(named?.fields) ? { fields: named.fields } : {}),
  };
}

/** The answer to a refusal: by the failure's type (see REFUSALS), else a 409; `extra` joins the body. */
export function refusalAsHttp(type: string | undefined, message: string, extra: Record<string, unknown> = {}): HttpError {
  const known = type === undefined ? undefined : REFUSALS[type];
  if (!known) return conflict(message, extra);
  return new HttpError(known.status, known.code, message, { ...extra, ...known.extra });
}

/** The first ApplicationFailure on the cause chain whose type the table knows, if any. */
function knownRefusalIn(err: unknown): ApplicationFailure | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth += 1) {
    if (e instanceof ApplicationFailure && e.type && REFUSALS[e.type]) return e;
  }
  return undefined;
}

/** An update's failure as the caller sees it; anything not the process's answer passes as it is. */
function answerTo(err: unknown, whenEnded: string, extra: Record<string, unknown>): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict(whenEnded, extra);
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  const known = knownRefusalIn(err.cause);
  // The client's error only says "Workflow Update failed"; the refusal is in its cause chain.
  if (known) return refusalAsHttp(known.type ?? undefined, known.message, { ...extra, ...namedRefusalOf(known) });
  return refusalAsHttp(undefined, rootCause(err.cause) ?? err.message, extra);
}

export interface RunUpdateOptions<Ret, Args extends [unknown, ...unknown[]], S> {
  update: UpdateDefinition<Ret, Args>;
  args: Args;
  /** Read when the update does not finish in time, so the answer says where the process stands. */
  stateQuery: QueryDefinition<S>;
  waitMs: number;
  /** Names the update in the 202 answer, e.g. `the decision on case vc_…`. */
  what: string;
  /** The 409's message when the process has ended (WorkflowNotFoundError), e.g. `shop s-1 has no running process`. */
  whenEnded: string;
  /** Joins the body of every refusal, e.g. the case's stored status. */
  refusalExtra?: Record<string, unknown>;
}

/**
 * The one way the API runs an update: start it, wait at most `waitMs` for its result, else
 * answer 202 with the process's state (the query bounded by the same wait). A refusal (the
 * validator's, or a step's failure) is answered by refusalAsHttp, the same for every process;
 * a process that has ended is a 409 saying `whenEnded`. Other failures pass as they are.
 */
export async function runUpdate<Ret, Args extends [unknown, ...unknown[]], S>(handle: WorkflowHandle, options: RunUpdateOptions<Ret, Args, S>): Promise<Ret> {
  const { update, args, stateQuery, waitMs, what, whenEnded, refusalExtra = {} } = options;
  let accepted = false;
  // Once the answer is sent nobody waits for these calls: abort them, or each late update
  // would keep a call (and its retries) open for as long as the process takes.
  const stopWaiting = new AbortController();
  const outcome = handle.client.withAbortSignal(stopWaiting.signal, () =>
    handle.startUpdate(update, { args, waitForStage: WorkflowUpdateStage.ACCEPTED }).then((started) => {
      accepted = true;
      return started.result();
    }),
  );
  // Aborted once the answer is sent: its rejection must not go unhandled.
  outcome.catch(() => undefined);
  let first: Ret | typeof TIMED_OUT;
  try {
    first = await within(waitMs, outcome);
  } catch (err) {
    throw answerTo(err, whenEnded, refusalExtra);
  } finally {
    stopWaiting.abort();
  }
  if (first !== TIMED_OUT) return first;
  const stopQuery = new AbortController();
  const state = await within(waitMs, handle.client.withAbortSignal(stopQuery.signal, () => handle.query(stateQuery)))
    .catch(() => TIMED_OUT)
    .finally(() => stopQuery.abort());
  throw new UpdateStillRunning(what, state === TIMED_OUT ? null : state, accepted);
}
