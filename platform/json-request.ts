import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors';
import type { PlatformRejectionDetails, PlatformUnavailableDetails } from './types';

/**
 * One JSON call over fetch, as every outside API client here makes it (the platform and the
 * partners): a timeout over the whole exchange, transport errors and 5xx / 408 / 429 as
 * retryable PlatformUnavailable, other 4xx as non-retryable PlatformRejected.
 *
 * Failure messages name method, path and status only: bodies, queries and headers may hold
 * personal data or secrets, and messages end up in Temporal history and logs.
 */
export interface JsonRequest<T> {
  fetchImpl: typeof fetch;
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** What failure messages call the request: the path, without anything secret in it. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Answered instead of failing on 404 (a read of something the callee does not know). */
  notFoundAs?: T;
  /** A caller's own reading of a refusal (e.g. a revoked grant); undefined falls back to the rule above. */
  refusal?: (status: number, body: unknown, message: string) => ApplicationFailure | undefined;
  /**
   * What a PlatformRejected failure's details keep of the refusal's body: all of it (default;
   * the platform's validation issues are read by its callers), or only its machine-readable
   * `error` code, for a callee whose words may echo a secret or personal data it was sent
   * (failure details go into workflow history and into the worker's log lines).
   */
  rejectedBody?: 'whole' | 'error_code';
}

// 408 and 429 say "not now", not "never": the same request may succeed later.
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

export async function requestJson<T>(spec: JsonRequest<T>): Promise<T> {
  const { method, path } = spec;
  let status: number;
  let text: string;
  try {
    const response = await spec.fetchImpl(spec.url, {
      method,
      headers: { Accept: 'application/json', ...spec.headers },
      body: spec.body,
      // The timeout also covers reading the body, hence one try around both.
      signal: AbortSignal.timeout(spec.timeoutMs),
      // A JSON API has no business redirecting us; surface it instead of following.
      redirect: 'manual',
    });
    status = response.status;
    text = await response.text();
  } catch (err) {
    const reason = describeTransportError(err, spec.timeoutMs);
    throw ApplicationFailure.retryable(`${method} ${path} ${reason}`, ErrorType.PlatformUnavailable);
  }

  const parsed = parseJson(text);
  if (status >= 200 && status < 300) {
    if (parsed.ok) return parsed.value as T;
    // The callee did act; a retry (with the same idempotency key, where there is one) replays a readable answer.
    const unavailable: PlatformUnavailableDetails = { status };
    throw ApplicationFailure.retryable(`${method} ${path} returned ${status} with a body that is not JSON`, ErrorType.PlatformUnavailable, unavailable);
  }
  if (status === 404 && spec.notFoundAs !== undefined) return spec.notFoundAs;
  const responseBody = parsed.ok ? parsed.value : text;
  const message = `${method} ${path} failed with ${status}${errorCodeSuffix(responseBody)}`;
  const own = spec.refusal?.(status, responseBody, message);
  if (own) throw own;
  if (status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status)) {
    const unavailable: PlatformUnavailableDetails = { status };
    throw ApplicationFailure.retryable(message, ErrorType.PlatformUnavailable, unavailable);
  }
  const code = errorCodeOf(responseBody);
  const rejection: PlatformRejectionDetails = { status, body: spec.rejectedBody === 'error_code' ? (code === undefined ? null : { error: code }) : responseBody };
  throw ApplicationFailure.nonRetryable(message, ErrorType.PlatformRejected, rejection);
}

/** The machine-readable `error` code of an answer (`invalid_grant`, `idempotency_key_reused`), if any. */
export function errorCodeOf(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'error' in body) {
    const code = body.error;
    if (typeof code === 'string' && /^[a-z0-9_]{1,64}$/.test(code)) return code;
  }
  return undefined;
}

// Only a machine-readable code goes into the message; free text from the callee could echo what we sent.
function errorCodeSuffix(body: unknown): string {
  const code = errorCodeOf(body);
  return code === undefined ? '' : ` (${code})`;
}

// Duck-typed, not `instanceof Error`: fetch's errors can come from another realm
// (jest's node environment is one), where that check silently fails.
function describeTransportError(err: unknown, timeoutMs: number): string {
  const { name, message, cause } = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
  };
  if (name === 'TimeoutError' || name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  // undici says "fetch failed" and puts the useful part (ECONNREFUSED, ...) in `cause`.
  const code = typeof cause === 'object' && cause !== null ? cause.code : undefined;
  if (typeof code === 'string') return `failed before a response: ${code}`;
  return `failed before a response: ${typeof message === 'string' ? message : String(err)}`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  // An empty body (e.g. 204) is a valid answer with nothing in it.
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
