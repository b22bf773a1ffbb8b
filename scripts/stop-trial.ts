import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { runWhenMain } from './support/main';

/**
 * The stop trial: starts `npm start` in its own process group, sends the whole group SIGINT or
 * SIGTERM as a terminal's Ctrl-C or a supervisor would, and checks what a clean stop promises:
 *   - every process of the group has exited within --bound-ms;
 *   - every request in flight when the signal came got an answer (no reset connection);
 *   - no Temporal dev server of this run is left, and the ports are free;
 *   - the next start works (each round starts over the previous round's data).
 * Busy rounds stop the stack while slow requests (the sandbox's injected latency) are open on
 * the API and the sandbox and an order-import activity is in flight.
 *
 *   npx tsx scripts/stop-trial.ts --rounds 10 --mode both
 *   npx tsx scripts/stop-trial.ts --mode leftovers   (a killed run's dev server; a foreign one on the port)
 *   npx tsx scripts/stop-trial.ts --root /some/other/checkout   (measure another checkout)
 * It uses its own ports (API 13000, sandbox 13100, Temporal 17233/18233) and data directory.
 */

const PORTS = { api: 13000, sandbox: 13100, temporal: 17233, temporalUi: 18233 };
const LATENCY_MS = 1_500;

interface RoundResult {
  round: number;
  mode: 'idle' | 'busy';
  signal: NodeJS.Signals;
  clean: boolean;
  stopMs: number | null;
  problems: string[];
  requests: { answered: number; reset: number; refused: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '10' },
      mode: { type: 'string', default: 'both' },
      root: { type: 'string', default: path.resolve(__dirname, '..') },
      'bound-ms': { type: 'string', default: '15000' },
    },
  });
  const root = path.resolve(values.root!);
  const rounds = Number(values.rounds);
  const boundMs = Number(values['bound-ms']);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-trial-'));
  if (values.mode === 'leftovers') {
    const outcomes = [await killedStackTakesItsServer(root, dataDir), await killedRunLeftover(root, dataDir, boundMs), await foreignServerOnPort(root, dataDir)];
    for (const o of outcomes) console.log(JSON.stringify(o));
    await cleanUp();
    if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
    return;
  }
  const modes: Array<'idle' | 'busy'> = values.mode === 'both' ? ['idle', 'busy'] : [values.mode as 'idle' | 'busy'];
  const results: RoundResult[] = [];
  for (const mode of modes) {
    for (let round = 1; round <= rounds; round++) {
      const signal: NodeJS.Signals = round % 2 === 1 ? 'SIGINT' : 'SIGTERM';
      const result = await trialRound({ root, dataDir, mode, signal, round, boundMs });
      results.push(result);
      console.log(JSON.stringify(result));
      if (!result.clean) await cleanUp();
    }
  }
  await cleanUp();
  for (const mode of modes) {
    const mine = results.filter((r) => r.mode === mode);
    const times = mine.map((r) => r.stopMs).filter((t): t is number => t !== null);
    console.log(
      `${mode}: ${mine.filter((r) => r.clean).length} of ${mine.length} clean; stop time max ${times.length ? Math.max(...times) : '-'} ms`,
    );
  }
  if (results.some((r) => !r.clean)) process.exitCode = 1;
}

async function trialRound(o: { root: string; dataDir: string; mode: 'idle' | 'busy'; signal: NodeJS.Signals; round: number; boundMs: number }): Promise<RoundResult> {
  const problems: string[] = [];
  const requests = { answered: 0, reset: 0, refused: 0 };
  const child = startStack(o.root, o.dataDir, o.mode);
  const output = collect(child);
  const up = await waitFor(() => output.join('').includes('merchant-ops is up'), 180_000);
  if (!up) {
    problems.push(`did not come up: ${output.join('').slice(-800)}`);
    killGroup(child.pid!, 'SIGKILL');
    return { round: o.round, mode: o.mode, signal: o.signal, clean: false, stopMs: null, problems, requests };
  }

  let inFlight: Array<Promise<void>> = [];
  if (o.mode === 'busy') {
    await startOrderImport(`stop-trial-${o.round}-${Date.now()}`).catch((err: unknown) => problems.push(`could not start an import: ${String(err)}`));
    const track = (p: Promise<'answered' | 'reset' | 'refused'>) => p.then((r) => void (requests[r] += 1));
    inFlight = [
      ...Array.from({ length: 5 }, () => track(request(PORTS.sandbox, '/v1/shops/stop-trial/restrictions', { authorization: 'Bearer sandbox-token' }))),
      ...Array.from({ length: 5 }, () => track(request(PORTS.api, '/health/ready'))),
    ];
    // The requests are open (the sandbox holds them for its latency) and the activity runs.
    await sleep(500);
  }

  const signalledAt = Date.now();
  killGroup(child.pid!, o.signal);
  const exited = await waitFor(() => !groupAlive(child.pid!), o.boundMs);
  const stopMs = exited ? Date.now() - signalledAt : null;
  if (!exited) problems.push(`group still alive ${o.boundMs} ms after ${o.signal}`);
  await Promise.all(inFlight);
  if (requests.reset > 0) problems.push(`${requests.reset} requests in flight were reset`);
  const leftovers = devServersOf();
  if (leftovers.length > 0) problems.push(`temporal dev server left running: pids ${leftovers.join(', ')}`);
  for (const [name, port] of Object.entries(PORTS)) {
    if (await portInUse(port)) problems.push(`port ${port} (${name}) still in use`);
  }
  if (!exited) killGroup(child.pid!, 'SIGKILL');
  const tail = output.join('').split('\n').filter((l) => /error|fatal|failed/i.test(l)).slice(-3);
  if (problems.length > 0 && tail.length > 0) problems.push(`last errors: ${tail.join(' | ').slice(0, 600)}`);
  return { round: o.round, mode: o.mode, signal: o.signal, clean: problems.length === 0, stopMs, problems, requests };
}

/** SIGKILL to the whole npm group: no handler runs, yet the dev server's watchdog stops it. */
async function killedStackTakesItsServer(root: string, dataDir: string): Promise<{ check: string; ok: boolean; detail: string }> {
  const check = 'a SIGKILLed dev stack takes its dev server with it';
  const child = startStack(root, dataDir, 'idle');
  const output = collect(child);
  if (!(await waitFor(() => output.join('').includes('merchant-ops is up'), 180_000))) return { check, ok: false, detail: 'did not come up' };
  killGroup(child.pid!, 'SIGKILL');
  const gone = await waitFor(() => devServersOf().length === 0 && pidsWith('exit-with-parent').length === 0, 10_000);
  return { check, ok: gone, detail: gone ? 'dev server and watchdog gone' : `left: ${devServersOf().join(', ')}` };
}

/**
 * A run killed so hard that its dev server's watchdog died too: the server is left holding its
 * ports. The next start must find it by its pid file, stop it, and come up.
 */
async function killedRunLeftover(root: string, dataDir: string, boundMs: number): Promise<{ check: string; ok: boolean; detail: string }> {
  const check = 'a killed run leaves its dev server; the next start stops it and comes up';
  const first = startStack(root, dataDir, 'idle');
  const firstOutput = collect(first);
  if (!(await waitFor(() => firstOutput.join('').includes('merchant-ops is up'), 180_000))) return { check, ok: false, detail: 'first start did not come up' };
  for (const pid of pidsWith('exit-with-parent')) process.kill(pid, 'SIGKILL');
  killGroup(first.pid!, 'SIGKILL');
  await waitFor(() => !groupAlive(first.pid!), 5_000);
  if (devServersOf().length === 0) return { check, ok: false, detail: 'no dev server was left to find' };
  const second = startStack(root, dataDir, 'idle');
  const output = collect(second);
  const up = await waitFor(() => output.join('').includes('merchant-ops is up'), 180_000);
  const found = output.join('').includes('a killed run left behind');
  killGroup(second.pid!, 'SIGTERM');
  const stopped = await waitFor(() => !groupAlive(second.pid!), boundMs);
  const left = devServersOf().length;
  return { check, ok: up && found && stopped && left === 0, detail: `up=${up} stoppedLeftover=${found} stoppedAfter=${stopped} leftOver=${left}` };
}

/** Someone else's server on the Temporal port: the start fails, saying what to do. */
async function foreignServerOnPort(root: string, dataDir: string): Promise<{ check: string; ok: boolean; detail: string }> {
  const check = 'a foreign server on the Temporal port: the start exits non-zero with what to do';
  const foreign = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => foreign.listen(PORTS.temporal, '127.0.0.1', resolve));
  try {
    const child = startStack(root, dataDir, 'idle');
    const output = collect(child);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const said = output.join('').includes('not by a Temporal dev server this checkout started');
    return { check, ok: code !== 0 && said, detail: `exit code ${code}; ${said ? 'message names the fix' : output.join('').slice(-400)}` };
  } finally {
    await new Promise<void>((resolve) => foreign.close(() => resolve()));
  }
}

function collect(child: ChildProcess): string[] {
  const output: string[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  return output;
}

function startStack(root: string, dataDir: string, mode: 'idle' | 'busy'): ChildProcess {
  return spawn('npm', ['start'], {
    cwd: root,
    // Its own process group, as a terminal gives a foreground job: the signal goes to all of it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...withoutDatabaseUrl(process.env),
      LOG_FORMAT: 'json',
      DEV_DATA_DIR: dataDir,
      PGLITE_DIR: path.join(dataDir, 'pglite'),
      API_PORT: String(PORTS.api),
      SANDBOX_PORT: String(PORTS.sandbox),
      TEMPORAL_ADDRESS: `127.0.0.1:${PORTS.temporal}`,
      TEMPORAL_UI_PORT: String(PORTS.temporalUi),
      SANDBOX_LATENCY_MS: mode === 'busy' ? String(LATENCY_MS) : '0',
    },
  });
}

// npm start's own embedded database (PGlite), as a developer runs it.
function withoutDatabaseUrl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _omitted, MIGRATION_DATABASE_URL: _alsoOmitted, ...rest } = env;
  return rest;
}

async function startOrderImport(workflowId: string): Promise<void> {
  const connection = await Connection.connect({ address: `127.0.0.1:${PORTS.temporal}` });
  try {
    const client = new Client({ connection });
    await client.workflow.start('orderImport', { taskQueue: 'merchant-ops', workflowId, args: [{}] });
    // Wait until its activity has started, so the stop meets an activity in flight.
    await waitFor(async () => {
      const d = await client.workflow.getHandle(workflowId).describe();
      return (d.raw.pendingActivities ?? []).length > 0;
    }, 10_000);
  } finally {
    await connection.close();
  }
}

/** One plain request without keep-alive: answered, reset mid-way, or refused at connect. */
function request(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<'answered' | 'reset' | 'refused'> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve('answered'));
      res.on('error', () => resolve('reset'));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'reset'));
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Temporal dev servers on this trial's port, whichever checkout started them. */
function devServersOf(): number[] {
  return pidsWith('start-dev').filter((pid) => commandOf(pid).includes(`${PORTS.temporal}`) && !commandOf(pid).includes('exit-with-parent'));
}

function pidsWith(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => commandOf(pid).includes(text) && commandOf(pid).includes(`${PORTS.temporal}`));
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function cleanUp(): Promise<void> {
  for (const pid of devServersOf()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await sleep(500);
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

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    if (await Promise.resolve(check()).catch(() => false)) return true;
    await sleep(100);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

runWhenMain(module, main);
