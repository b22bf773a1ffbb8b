import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { FeedOrder } from '../platform/types';
import type { SandboxOrderRefund } from '../platform/sandbox/state';

export interface SandboxProcess {
  url: string;
  process: ChildProcess;
  /** Stops the process and waits for it to go, so the next timed part has the cores to itself. */
  close(): Promise<void>;
}

const TOKEN = 'bench';
const FEED_APPEND_MAX = 1_000;

/**
 * `npm run start:sandbox` on a free port, in a process of its own: the platform is another
 * machine in production, so its request handling must not share the bench's thread.
 * No state file: every sandbox starts empty.
 */
export async function startSandboxProcess(): Promise<SandboxProcess> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(process.execPath, ['--import', 'tsx', require.resolve('../platform/sandbox/main.ts')], {
    env: { ...process.env, SANDBOX_PORT: String(port), PLATFORM_API_TOKEN: TOKEN, LOG_LEVEL: 'warn', SANDBOX_STATE_FILE: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };
  for (const giveUpAt = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return { url, process: child, close };
    if (Date.now() > giveUpAt || child.exitCode !== null) {
      await close();
      throw new Error('the sandbox did not start');
    }
  }
}

/** Puts orders on the sandbox's order feed through its control route, 1,000 a call (its limit). */
export async function putOnFeed(sandbox: SandboxProcess, orders: readonly FeedOrder[]): Promise<void> {
  for (let i = 0; i < orders.length; i += FEED_APPEND_MAX) {
    const answer = await fetch(`${sandbox.url}/v1/_orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ orders: orders.slice(i, i + FEED_APPEND_MAX) }),
    });
    if (!answer.ok) throw new Error(`feed append: ${answer.status} ${await answer.text()}`);
  }
}

/** The refunds the sandbox itself recorded for the shop (one per idempotency key it paid), over HTTP. */
export async function paidRefunds(sandbox: SandboxProcess, shopId: string): Promise<SandboxOrderRefund[]> {
  const answer = await fetch(`${sandbox.url}/v1/payments/order-refunds?shopId=${encodeURIComponent(shopId)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (!answer.ok) throw new Error(`order refunds: ${answer.status} ${await answer.text()}`);
  return ((await answer.json()) as { refunds: SandboxOrderRefund[] }).refunds;
}
