import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';

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
export const unavailable = (message: string) => new HttpError(503, 'unavailable', message);

const GRPC_UNAVAILABLE = 14;

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(notFound(`no route ${req.method} ${req.path}`));
};

/**
 * The one error mapper: every failure becomes `{ error, message, requestId, ... }`.
 * Stack traces go to the log, never to the client.
 */
export function errorMapper(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const requestId = String(req.id ?? '');
    if (err instanceof HttpError) {
      if (err.status >= 500) logger.error({ err, requestId }, err.message);
      // Below 400 it is no error: a request accepted but not finished (an update still running).
      const kind = err.status < 400 ? { status: err.code } : { error: err.code };
      res.status(err.status).json({ ...kind, message: err.message, requestId, ...err.extra });
      return;
    }
    const bodyError = (err ?? {}) as { type?: string; status?: number };
    if (bodyError.type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: 'request body is too large', requestId });
      return;
    }
    if (bodyError.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_json', message: 'request body is not valid JSON', requestId });
      return;
    }
    // Express and body-parser mark client mistakes (unsupported charset or encoding, an
    // undecodable path parameter) with a 4xx status; their messages may quote the input.
    if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      const code = bodyError.status === 415 ? 'unsupported_media_type' : 'bad_request';
      res.status(bodyError.status).json({ error: code, message: 'the request cannot be read as sent', requestId });
      return;
    }
    // The Temporal client wraps the gRPC error: UNAVAILABLE is on its cause.
    const grpc = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
    if (grpc?.code === GRPC_UNAVAILABLE || grpc?.cause?.code === GRPC_UNAVAILABLE) {
      logger.error({ err, requestId }, 'temporal is unavailable');
      res.status(503).json({ error: 'unavailable', message: 'the workflow service is unavailable; retry shortly', requestId });
      return;
    }
    logger.error({ err, requestId }, 'unhandled error');
    res.status(500).json({ error: 'internal', message: 'something went wrong; quote the request id', requestId });
  };
}
