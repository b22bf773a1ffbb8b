import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BusinessGauges } from './business-gauges';

export interface WorkerMetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's one metrics port: GET /metrics answers the Temporal SDK's runtime metrics (read
 * from the core's own exporter on a loopback port, `coreMetricsUrl`) followed by the business
 * gauges. One scrape target per worker; the two sets of names cannot meet (temporal_* and
 * merchant_ops_*). If the core's exporter does not answer, the business gauges are still served.
 */
export async function serveWorkerMetrics(options: {
  host: string;
  port: number;
  coreMetricsUrl?: string;
  gauges: BusinessGauges;
  logger: Logger;
}): Promise<WorkerMetricsServer> {
  const { gauges, logger } = options;
  const coreText = async (): Promise<string> => {
    if (!options.coreMetricsUrl) return '';
    try {
      const res = await fetch(options.coreMetricsUrl, { signal: AbortSignal.timeout(2_000) });
      if (!res.ok) throw new Error(`core metrics answered ${res.status}`);
      const text = await res.text();
      return text.endsWith('\n') || text === '' ? text : `${text}\n`;
    } catch (err) {
      logger.warn({ err }, 'temporal runtime metrics unavailable');
      return '';
    }
  };
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      const [core] = await Promise.all([coreText(), gauges.refresh()]);
      res.writeHead(200, { 'Content-Type': gauges.registry.contentType });
      res.end(core + (await gauges.registry.metrics()));
    })().catch((err: unknown) => {
      logger.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
