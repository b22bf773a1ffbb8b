import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { RequestHandler } from 'express';
import { routeOf, trackRoute } from './tracing';

/**
 * The API's Prometheus metrics: `http_request_duration_seconds` by method, route template and
 * status (bounded: routes are the app's templates or `unmatched`), plus the Node process's own
 * (`process_*`, `nodejs_*`). One registry per app, so tests may build several.
 */
export interface HttpMetrics {
  registry: Registry;
  /** First middleware: times each request and records its route when the router matches it. */
  measure: RequestHandler;
  /** GET /metrics: the registry in Prometheus text format. */
  serve: RequestHandler;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    measure: (req, res, next) => {
      trackRoute(req);
      const end = duration.startTimer();
      res.once('finish', () => end({ method: req.method, route: routeOf(req), status: String(res.statusCode) }));
      next();
    },
    serve: (_req, res, next) => {
      registry
        .metrics()
        .then((text) => res.type(registry.contentType).send(text))
        .catch(next);
    },
  };
}

/** /metrics on a listener of its own (API_METRICS_PORT), to keep it off the public port. */
export async function serveMetricsApart(metrics: HttpMetrics, host: string, port: number): Promise<http.Server & { port: number }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
