import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { temporalCliPath } from '../support/temporal';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(__dirname, '../support/dev-server-fixture.ts');
const LEFT_BEHIND = 'stopping the Temporal dev server a killed run left behind';

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Some other program on a port: it accepts connections and says nothing. */
async function holdPort(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/** Temporal dev servers (not their watchdogs) whose command line mentions `text`, with their process groups. */
function devServersWith(text: string): Array<{ pid: number; pgid: number }> {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, , ...args]) => {
      const command = args.join(' ');
      return command.includes('start-dev') && command.includes(text) && !command.includes('exit-with-parent');
    })
    .map(([pid, pgid]) => ({ pid: Number(pid), pgid: Number(pgid) }));
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

interface Checkout {
  dir: string;
  dbFile: string;
  pidFile: string;
  address: string;
  port: number;
}

async function newCheckout(): Promise<Checkout> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stale-dev-server-'));
  const port = await freePort();
  const dbFile = path.join(dir, 'temporal.db');
  return { dir, dbFile, pidFile: `${dbFile}.pid.json`, address: `127.0.0.1:${port}`, port };
}

/** A first run: the dev server started as npm start starts it, in a process the test can kill. */
async function firstRun(c: Checkout): Promise<{ owner: ChildProcess; pgid: number }> {
  const owner = fork(FIXTURE, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DEV_SERVER_FIXTURE: JSON.stringify({ cliPath: temporalCliPath(), dbFile: c.dbFile, address: c.address, uiPort: await freePort() }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pgid = await new Promise<number>((resolve, reject) => {
    owner.once('message', (m: { pgid: number }) => resolve(m.pgid));
    owner.once('exit', (code) => reject(new Error(`the first run exited with ${code} before its dev server answered`)));
  });
  return { owner, pgid };
}

/**
 * Killed harder than its watchdog can handle: the watchdog (the group's leader) and the run both
 * SIGKILLed, so nothing stops the server, which keeps its ports. What `kill -9` of the whole
 * tree minus the server, or an OOM kill, leaves.
 */
async function killRun(run: { owner: ChildProcess; pgid: number }): Promise<void> {
  const exited = new Promise((resolve) => run.owner.once('exit', resolve));
  process.kill(run.pgid, 'SIGKILL');
  run.owner.kill('SIGKILL');
  await exited;
}

/** The next start, as scripts/dev.ts makes it. */
function nextStart(c: Checkout, warnings: string[]): Promise<DevServer> {
  return freePort().then((uiPort) =>
    startTemporalDevServer({
      cliPath: temporalCliPath(),
      dbFile: c.dbFile,
      address: c.address,
      uiPort,
      namespace: 'default',
      onOutput: () => undefined,
      warn: (message) => warnings.push(message),
    }),
  );
}

/** `npm start` (scripts/dev.ts) on free ports of its own and a data directory of its own, with `env` on top. */
async function devStack(dataDir: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _db, MIGRATION_DATABASE_URL: _migration, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/dev.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      NODE_OPTIONS: '',
      LOG_FORMAT: 'json',
      DEV_DATA_DIR: dataDir,
      PGLITE_DIR: path.join(dataDir, 'pglite'),
      API_PORT: String(await freePort()),
      SANDBOX_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_UI_PORT: String(await freePort()),
      ...env,
    },
  });
  const output: string[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    // A stack that comes up despite the used port is a failure too; stop it rather than wait.
    const up = setInterval(() => {
      if (output.join('').includes('merchant-ops is up')) child.kill('SIGTERM');
    }, 200);
    child.once('exit', () => clearInterval(up));
  });
  return { code, output: output.join('') };
}

describe('a stale Temporal dev server or a used port at npm start (scripts/dev.ts)', () => {
  const checkouts: Checkout[] = [];
  const cleanups: Array<() => Promise<unknown> | void> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const c of checkouts.splice(0)) {
      for (const { pgid } of devServersWith(c.dir)) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });

  test('a dev server a killed run left on its port is found by its pid file and stopped; the next start comes up on the same data', async () => {
    const c = await newCheckout();
    checkouts.push(c);
    const run = await firstRun(c);
    // Something in flight in the first run, to find again after the restart.
    const first = await Connection.connect({ address: c.address });
    await new Client({ connection: first }).workflow.start('orderImport', { taskQueue: 'nobody-polls', workflowId: 'in-flight-across-restart', args: [{}] });
    await first.close();

    // Found before the kill: the leftover may end on its own right after it (see below).
    const [leftover] = devServersWith(c.dir);
    expect(leftover).toBeDefined();
    await killRun(run);

    const warnings: string[] = [];
    const server = await nextStart(c, warnings);
    cleanups.push(() => server.stop());
    // The leftover's output pipe went with the killed run: its next log line ends it (SIGPIPE).
    // The start stopped it (and says so), or found it gone and its ports free (and says nothing).
    expect([[], [LEFT_BEHIND]]).toContainEqual(warnings);
    expect(devServersWith(c.dir).map((s) => s.pid)).not.toContain(leftover!.pid);
    expect(devServersWith(c.dir).map((s) => s.pgid)).toEqual([server.child.pid]);

    const connection = await Connection.connect({ address: c.address });
    cleanups.push(() => connection.close());
    const described = await new Client({ connection }).workflow.getHandle('in-flight-across-restart').describe();
    expect(described.status.name).toBe('RUNNING');
  });

  test('while the run that started it is alive, the next start leaves the server alone and names the process to stop', async () => {
    const c = await newCheckout();
    checkouts.push(c);
    const run = await firstRun(c);
    cleanups.push(() => {
      run.owner.kill('SIGKILL');
      return waitUntil(() => devServersWith(c.dir).length === 0, 10_000);
    });

    const warnings: string[] = [];
    await expect(nextStart(c, warnings)).rejects.toThrow(
      `another npm start of this checkout is running (pid ${run.owner.pid}) and holds ${c.address}: stop it first (Ctrl-C in its terminal, or kill -TERM ${run.owner.pid})`,
    );
    expect(warnings).toEqual([]);
    expect(devServersWith(c.dir).map((s) => s.pgid)).toEqual([run.pgid]);
    expect(await portInUse(c.port)).toBe(true);
  });

  test("a killed run's pid, since reused by an unrelated process, does not pass for a live run: the leftover is still stopped", async () => {
    const c = await newCheckout();
    checkouts.push(c);
    const run = await firstRun(c);
    await killRun(run);
    // The pid the killed run had now belongs to a process that is not npm start.
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => void unrelated.kill('SIGKILL'));
    const record = JSON.parse(fs.readFileSync(c.pidFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(c.pidFile, JSON.stringify({ ...record, ownerPid: unrelated.pid }));

    const warnings: string[] = [];
    const server = await nextStart(c, warnings);
    cleanups.push(() => server.stop());
    // Stopped, or gone by itself on its next log line (see the first test).
    expect([[], [LEFT_BEHIND]]).toContainEqual(warnings);
    expect(devServersWith(c.dir).map((s) => s.pgid)).toEqual([server.child.pid]);
    expect(unrelated.exitCode).toBeNull();
  });

  test('another program on the Temporal port: npm start exits 1, says what to do, and leaves that program alone', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stale-dev-server-'));
    checkouts.push({ dir: dataDir } as Checkout);
    const port = await freePort();
    const holder = await holdPort(port);
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));

    const { code, output } = await devStack(dataDir, { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(output).toContain(`127.0.0.1:${port} (TEMPORAL_ADDRESS) is in use, and not by a Temporal dev server this checkout started`);
    expect(output).toContain(`lsof -i :${port}`);
    expect(output).toContain('TEMPORAL_ADDRESS=');
    expect(output).not.toContain('merchant-ops is up');
    expect(holder.listening).toBe(true);
    expect(devServersWith(dataDir)).toEqual([]);
  });

  test.each([
    ['TEMPORAL_UI_PORT', 'the Temporal Web UI'],
    ['SANDBOX_PORT', 'the sandbox platform'],
    ['API_PORT', 'the API'],
  ])('another program on %s: npm start exits 1 before starting anything, naming the port and what to do', async (name, part) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stale-dev-server-'));
    checkouts.push({ dir: dataDir } as Checkout);
    const port = await freePort();
    const holder = await holdPort(port);
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));

    const { code, output } = await devStack(dataDir, { [name]: String(port) });
    expect(code).toBe(1);
    expect(output).toContain(`port ${port} (${name}, ${part}) is in use by another program`);
    expect(output).toContain(`lsof -i :${port}`);
    expect(output).toContain(`${name}=`);
    expect(output).not.toContain('temporal dev server ready');
    expect(holder.listening).toBe(true);
    expect(devServersWith(dataDir)).toEqual([]);
  });

  test('a used port of its own while another npm start of this checkout runs: it names that run, not "another program"', async () => {
    const c = await newCheckout();
    checkouts.push(c);
    const run = await firstRun(c);
    cleanups.push(() => {
      run.owner.kill('SIGKILL');
      return waitUntil(() => devServersWith(c.dir).length === 0, 10_000);
    });
    // Standing in for that run's API on its port.
    const port = await freePort();
    const holder = await holdPort(port);
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));

    const { code, output } = await devStack(c.dir, { API_PORT: String(port), TEMPORAL_ADDRESS: c.address });
    expect(code).toBe(1);
    expect(output).toContain(`another npm start of this checkout is running (pid ${run.owner.pid}) and holds port ${port}`);
    expect(devServersWith(c.dir).map((s) => s.pgid)).toEqual([run.pgid]);
  });
});

// A run started under another time zone (the worker asks for TZ=Asia/Shanghai) must still read
// as the same live run: its start time may not depend on the reader's TZ.
test('a process start time reads the same under any TZ', () => {
  const read = (tz: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', '-e', `import('${path.join(__dirname, '../../scripts/support/stale-dev-server.ts')}').then((m) => process.stdout.write(String((m.startTimeOf ?? m.default.startTimeOf)(${process.pid}))))`], {
      encoding: 'utf8',
      env: { ...process.env, TZ: tz },
    });
  const shanghai = read('Asia/Shanghai');
  expect(shanghai).not.toBe('undefined');
  expect(read('UTC')).toBe(shanghai);
  expect(read('America/New_York')).toBe(shanghai);
}, 60_000);
