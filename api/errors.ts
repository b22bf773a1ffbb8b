import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { RETRY_AFTER_SECONDS, unreachableDependency, type Dependency } from './outages';
import { PROBLEM_CONTENT_TYPE, problem } from './problems';
import { ClosureAlreadyActive, ProcessAlreadyRunning, ProcessNotRecorded, ShopAlreadyClosed, ViolationNotOpened } from '../domain/errors';

/** An error whose status and body the API shows as is. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, issues: Array<{ path: string; message: string }>) =>
  new HttpError(400, 'invalid_request', message, { issues });
export const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (message: string, extra: Record<string, unknown> = {}) =>
  new HttpError(409, 'conflict', message, extra);
export const unavailable = (message: string, extra: Record<string, unknown> = {}) => new HttpError(503, 'unavailable', message, extra);

/**
 * A domain error (domain/errors.ts) as the API answers it; undefined for any other error. A
 * service may answer one itself first when it has more to say (which case is open).
 */
export function domainErrorAsHttp(err: unknown): HttpError | undefined {
  if (err instanceof ProcessNotRecorded) {
    // The database's message stays on the cause, for the log only.
    const dependency = unreachableDependency(err.cause);
    return Object.assign(unavailable(`${err.what} could not be recorded; retry shortly`, dependency ? { dependency } : {}), { cause: err });
  }
  if (err instanceof ProcessAlreadyRunning) return conflict(`${err.workflowId} is already running`, { workflowId: err.workflowId });
  if (err instanceof ShopAlreadyClosed) return conflict(err.message);
  if (err instanceof ViolationNotOpened) return err.reason === 'shop_not_found' ? notFound(err.message) : conflict(err.message, err.caseId ? { caseId: err.caseId } : {});
  if (err instanceof ClosureAlreadyActive) return conflict(err.message, err.activeClosureId ? { closureId: err.activeClosureId } : {});
  return undefined;
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(notFound(`no route ${req.method} ${req.path}`));
};

/** Sends a problem document (api/problems.ts); a 503 also says when to come back. */
export function sendProblem(res: Response, req: Request, err: HttpError): void {
  if (err.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  // Through res.json, so what wraps it (the Idempotency-Key middleware keeping answers) sees errors too.
  res.status(err.status).type(PROBLEM_CONTENT_TYPE).json(problem(err.status, err.code, err.message, String(req.id ?? ''), err.extra));
}

const DEPENDENCY_WORDS: Record<Dependency, string> = {
  database: 'the database is unavailable; retry shortly',
  temporal: 'the workflow service is unavailable; retry shortly',
};

/**
 * What a raised error is answered with: an HttpError as it is, a domain error as
 * domainErrorAsHttp says, body-parser's and Express's refusals by their status, a dependency
 * that cannot be reached (api/outages.ts) as 503, anything else as a plain 500.
 */
function asHttpError(raised: unknown): HttpError {
  const err = domainErrorAsHttp(raised) ?? raised;
  if (err instanceof HttpError) return err;
  const bodyError = (err ?? {}) as { type?: string; status?: number };
  if (bodyError.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'request body is too large');
  if (bodyError.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  // Express and body-parser mark client mistakes (unsupported charset or encoding, an
  // undecodable path parameter) with a 4xx status; their messages may quote the input.
  if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
    const code = bodyError.status === 415 ? 'unsupported_media_type' : 'bad_request';
    return new HttpError(bodyError.status, code, 'the request cannot be read as sent');
  }
  const dependency = unreachableDependency(err);
  if (dependency) return new HttpError(503, 'unavailable', DEPENDENCY_WORDS[dependency], { dependency });
  return new HttpError(500, 'internal', 'something went wrong; quote the request id');
}

/**
 * The one error mapper: every failure becomes an RFC 9457 problem document (api/problems.ts)
 * whose `instance` is the request id. Stack traces and driver messages go to the log, never
 * to the client.
 */
export function errorMapper(logger: Logger): ErrorRequestHandler {
  return (raised: unknown, req, res, _next) => {
    const requestId = String(req.id ?? '');
    const err = asHttpError(raised);
    if (err.status >= 500) logger.error({ err: raised, requestId }, err.message);
    // Below 400 it is no error: a request accepted but not finished (an update still running).
    if (err.status < 400) {
      res.status(err.status).json({ status: err.code, message: err.message, requestId, ...err.extra });
      return;
    }
    sendProblem(res, req, err);
  };
}
