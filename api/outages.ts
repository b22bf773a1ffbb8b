/*
 * Whether a failure means a dependency cannot be reached (answer 503 with Retry-After: the
 * same request may succeed shortly) rather than a fault of ours (500). Classified here and
 * only here, by what the drivers raise, walking the cause chain (the Temporal client and
 * ProcessNotRecorded wrap the original error).
 */

export type Dependency = 'database' | 'temporal';

/** Seconds a 503 asks the caller to wait: long enough for a pool to reconnect or a failover, short enough not to strand a user. */
export const RETRY_AFTER_SECONDS = 5;

// gRPC status codes (the Temporal client's transport): the server cannot be reached, or did
// not answer within the call's deadline.
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

// Socket errors: the only raw connections the API opens are the database's (Temporal speaks
// gRPC and reports the codes above).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

// SQLSTATE class 08 (connection exception), 57P01–57P03 (the server is shutting down or
// starting), 53300 (too many connections).
const UNREACHABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

// What node-postgres, knex and PGlite say when there is no connection to be had: their
// errors carry no code.
const DATABASE_MESSAGES = [
  /^Connection terminated/,
  /Client has encountered a connection error and is not queryable/,
  /^Knex: Timeout acquiring a connection/,
  /^Unable to acquire a connection/,
  /^aborted$/,
  /PGlite is closed/,
];

function ownDependency(err: object): Dependency | undefined {
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) return 'temporal';
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNREACHABLE_SQLSTATE.test(code))) return 'database';
  if (name === 'KnexTimeoutError') return 'database';
  if (typeof message === 'string' && DATABASE_MESSAGES.some((m) => m.test(message))) return 'database';
  return undefined;
}

/** The dependency a failure says cannot be reached, or undefined for any other failure. */
export function unreachableDependency(err: unknown): Dependency | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 16) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const found = ownDependency(e);
    if (found) return found;
    // node reports a refused connection to a host with several addresses as an AggregateError.
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    queue.push(cause, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}
