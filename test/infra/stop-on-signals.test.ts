import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

const FIXTURE = path.join(__dirname, '../support/stop-fixture.ts');

async function startFixture(graceMs: number): Promise<{ child: ChildProcess; port: number; output: string[]; exited: Promise<number | null> }> {
  const child = fork(FIXTURE, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, STOP_FIXTURE_GRACE_MS: String(graceMs) }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const output: string[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return { child, port, output, exited };
}

/** One request without keep-alive: its status, or how it failed. */
function get(port: number): { sent: Promise<void>; outcome: Promise<string> } {
  let sent!: () => void;
  const sentPromise = new Promise<void>((r) => (sent = r));
  const outcome = new Promise<string>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/slow', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', () => resolve('reset'));
    });
    req.on('socket', (socket) => socket.on('connect', sent));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  return { sent: sentPromise, outcome };
}

// What a terminal's Ctrl-C and a supervisor do: the signal, then the same again while stopping.
describe('a process stopping on signals (the API, the worker, the sandbox and npm start use this)', () => {
  test('a second and third signal neither kill it half-way nor stop it twice; the request in flight is answered', async () => {
    const { child, port, output, exited } = await startFixture(5_000);
    const inFlight = get(port);
    await inFlight.sent;
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    child.kill('SIGTERM');
    child.kill('SIGINT');
    expect(await inFlight.outcome).toBe('200');
    // No new connection once stopping.
    expect(await get(port).outcome).toBe('ECONNREFUSED');
    expect(await exited).toBe(0);
    expect(output.join('')).toBe('stops=1\n');
  });

  test('a request that outlasts the grace time is cut, and the process still exits', async () => {
    const { child, port, exited } = await startFixture(200);
    const inFlight = get(port);
    await inFlight.sent;
    child.kill('SIGTERM');
    expect(await inFlight.outcome).toBe('ECONNRESET');
    expect(await exited).toBe(0);
  });
});
