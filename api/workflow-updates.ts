import { WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, type QueryDefinition, type UpdateDefinition } from '@temporalio/common';
import { ErrorType } from '../domain/errors';
import { HttpError } from './errors';

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

/** The failure a process's step raised when the database refused its data, if that is why the update failed. */
function dataRejection(err: unknown): ApplicationFailure | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof ApplicationFailure && e.type === ErrorType.DataRejected) return e;
  }
  return undefined;
}

export interface RunUpdateOptions<Ret, Args extends [unknown, ...unknown[]], S> {
  update: UpdateDefinition<Ret, Args>;
  args: Args;
  /** Read when the update does not finish in time, so the answer says where the process stands. */
  stateQuery: QueryDefinition<S>;
  waitMs: number;
  /** Names the process in the answer, e.g. `the decision on case vc_…`. */
  what: string;
}

/**
 * The one way the API runs an update: start it, wait at most `waitMs` for its result, else
 * answer 202 with the process's state (the query bounded by the same wait). A step whose data
 * the database refused for good is a 422 carrying the step's own message (never SQL). Other
 * failures (a validator's refusal, WorkflowNotFoundError) reach the caller as they are.
 */
export async function runUpdate<Ret, Args extends [unknown, ...unknown[]], S>(handle: WorkflowHandle, options: RunUpdateOptions<Ret, Args, S>): Promise<Ret> {
  const { update, args, stateQuery, waitMs, what } = options;
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
    const rejected = err instanceof WorkflowUpdateFailedError ? dataRejection(err.cause) : undefined;
    if (rejected) throw new HttpError(422, 'unprocessable', rejected.message);
    throw err;
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
