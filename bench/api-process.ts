import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

export interface ApiProcess {
  url: string;
  process: ChildProcess;
  /** SIGTERM, as a deployment stops it (requests in flight answered, pool closed), and waits for it to go. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `npm run start:api` (api/main.ts, the production entry point) on a free port, in a process of
 * its own: the bench's clients must not share the API's event loop. `env` is the API's whole
 * configuration on top of this process's environment (DATABASE_URL or PGLITE_DIR, Temporal);
 * `profileDir` gets its CPU profile (node --cpu-prof) when it stops.
 */
export async function startApiProcess(env: Record<string, string>, profileDir?: string): Promise<ApiProcess> {
  const port = await freePort();
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', require.resolve('../api/main.ts')], {
    env: { ...process.env, ...env, API_PORT: String(port), API_HOST: '127.0.0.1' },
    // Its request log goes nowhere, but is still written: that is part of what a request costs.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };
  for (const giveUpAt = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 200))) {
    if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) return { url, process: child, close };
    if (Date.now() > giveUpAt || child.exitCode !== null) {
      await close();
      throw new Error('the API did not start');
    }
  }
}

export interface Answer {
  status: number;
  body: string;
}

/**
 * A JSON POST over kept-alive connections (at most `agent.maxSockets`): node:http rather than
 * fetch, whose client costs the bench's own thread several times more per request.
 */
export function postJson(agent: http.Agent, url: string, token: string, body: unknown): Promise<Answer> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${token}` },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(payload);
  });
}
