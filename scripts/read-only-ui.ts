import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The dev stack's Temporal Web UI, read only. The CLI's embedded UI has no switch for write
 * actions (`temporal server start-dev` builds its UI config without one), so the dev server's
 * UI listens on a private loopback port and this proxy serves it on TEMPORAL_UI_PORT:
 *
 * - the UI's settings answer `DisableWriteActions: true`, so it offers no terminate, cancel,
 *   signal, update, reset, pause or batch action (as TEMPORAL_DISABLE_WRITE_ACTIONS does for
 *   the compose UI);
 * - any request that would change something is refused with 403 all the same (a hand-made
 *   request, an old tab): only reads and queries pass.
 *
 * Changes go through the audited API, or the temporal CLI with a reason (README, "Production").
 */

/** Reads: GET, HEAD, OPTIONS; and the one POST that reads, a workflow query. */
export function isReadOnly(method: string, url: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return true;
  const path = url.split('?')[0] ?? '';
  return method === 'POST' && /^\/api\/v1\/namespaces\/[^/]+\/workflows\/[^/]+\/query\/[^/]+$/.test(path);
}

const SETTINGS = /^\/api\/v1\/settings(\?|$)/;

export interface ReadOnlyUi {
  url: string;
  close(): Promise<void>;
}

export async function startReadOnlyUi(o: { upstream: string; host: string; port: number }): Promise<ReadOnlyUi> {
  const upstream = new URL(o.upstream);
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (!isReadOnly(method, url)) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'the Web UI is read only: use the audited API, or the temporal CLI with a reason' }));
      req.resume();
      return;
    }
    const settings = method === 'GET' && SETTINGS.test(url);
    const headers = { ...req.headers, host: upstream.host };
    // The settings are rewritten, so they must come back uncompressed.
    if (settings) delete headers['accept-encoding'];
    const forward = http.request({ hostname: upstream.hostname, port: upstream.port, method, path: url, headers }, (answer) => {
      if (!settings || answer.statusCode !== 200) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = JSON.stringify({ ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as object), DisableWriteActions: true });
        const { 'content-length': _length, 'content-encoding': _encoding, ...rest } = answer.headers;
        res.writeHead(200, { ...rest, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('the Temporal Web UI is not answering');
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
