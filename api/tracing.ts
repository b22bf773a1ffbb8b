import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import { LOGGER_SPAN } from '../config/logger';

const MATCHED_ROUTE = Symbol('merchant-ops.route');
type Tracked = Request & { [MATCHED_ROUTE]?: string };

/**
 * Remembers the template of the route a request matches (`/v1/verifications/:caseId`), with
 * the mount path as it is at that moment: by the time an error is answered the routers have
 * been left and `req.baseUrl` is gone. The router assigns `req.route` on a match; this turns
 * that assignment into a record.
 */
export function trackRoute(req: Request): void {
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      if (typeof value?.path === 'string') (req as Tracked)[MATCHED_ROUTE] = `${req.baseUrl}${value.path}`;
    },
  });
}

/**
 * The route a request matched, as its template, never the raw path: ids in a metric label or
 * a span name would make one series per case. A request no route answered is `unmatched`.
 */
export function routeOf(req: Request): string {
  return (req as Tracked)[MATCHED_ROUTE] ?? 'unmatched';
}

/**
 * One server span per request, continuing the caller's W3C `traceparent`, named by method and
 * route template once the route is known; everything the request does (queries, workflow
 * starts through the traced client) runs inside it. Our own middleware rather than the
 * contrib Express instrumentation: the version of that for the OpenTelemetry 1.x SDK (which
 * @temporalio/interceptors-opentelemetry 1.24 requires) supports Express 4 only, and it works
 * through a require hook that must load before Express.
 */
export function traceRequests(): RequestHandler {
  const tracer = trace.getTracer('merchant-ops-api');
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    res.once('finish', () => {
      const route = routeOf(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    Object.defineProperty(req.log, LOGGER_SPAN, { value: span.spanContext(), enumerable: false });
    context.with(trace.setSpan(parent, span), next);
  };
}
