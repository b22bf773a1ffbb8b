import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** What `npm start` writes beside the dev server's database while it runs. */
export interface DevServerRecord {
  /** The dev stack's own process (scripts/dev.ts). */
  ownerPid: number;
  /**
   * When that process started (startTimeOf): a pid of a run killed long ago may have been
   * given to another program since, which must not pass for the run.
   */
  ownerStartedAt?: string;
  /** The dev server's process group (its watchdog and the server). */
  pgid: number;
  address: string;
  uiPort: number;
  dbFile: string;
}

export interface StaleCheck {
  pidFile: string;
  address: string;
  uiPort: number;
  dbFile: string;
  warn: (message: string, details: Record<string, unknown>) => void;
}

/** Where `npm start` records the dev server it runs on `dbFile`. */
export const pidFileOf = (dbFile: string): string => `${dbFile}.pid.json`;

/** A port npm start listens on itself, with the setting that moves it. */
export interface OwnPort {
  /** The environment variable that sets it, e.g. API_PORT. */
  setting: string;
  /** What listens there, for the message: "the API". */
  part: string;
  host: string;
  port: number;
}

/**
 * Before anything starts: the ports npm start's own parts listen on (the API, the sandbox, the
 * Web UI's proxy) must be free. A killed run frees them with its process, so whoever holds one
 * now is either another npm start of this checkout, still running, or another program; the start
 * fails at once naming it and what to do, instead of a bare EADDRINUSE half-way up.
 */
export async function checkOwnPorts(o: { pidFile: string; ports: OwnPort[] }): Promise<void> {
  for (const p of o.ports) {
    if (await canListen(p.host, p.port)) continue;
    const record = readRecord(o.pidFile);
    if (record && liveRun(record)) throw anotherRun(record, `port ${p.port}`);
    throw new Error(
      `port ${p.port} (${p.setting}, ${p.part}) is in use by another program. ` +
        `Find it (lsof -i :${p.port}, or ss -ltnp) and stop it, or start on another port: ${p.setting}=<a free port> npm start`,
    );
  }
}

/**
 * Before the dev server starts: its ports must be free. A dev server left by a dev stack that
 * is gone (killed, or stopped half-way) is ours to stop, and is stopped; anything else on the
 * ports is someone else's, and the start fails saying what to do.
 */
export async function clearStaleDevServer(o: StaleCheck): Promise<void> {
  const [host = '127.0.0.1', port = '7233'] = o.address.split(':');
  const busyPorts = async () => {
    const busy: number[] = [];
    for (const p of [Number(port), o.uiPort]) if (await portInUse(host, p)) busy.push(p);
    return busy;
  };
  const busy = async () => (await busyPorts()).length > 0;
  const record = readRecord(o.pidFile);
  if (!(await busy())) {
    if (record) fs.rmSync(o.pidFile, { force: true });
    return;
  }
  if (record && liveRun(record)) throw anotherRun(record, o.address);
  if (record && record.dbFile === o.dbFile && devServerInGroup(record.pgid, o.dbFile)) {
    o.warn('stopping the Temporal dev server a killed run left behind', { pgid: record.pgid, address: o.address });
    signalGroup(record.pgid, 'SIGTERM');
    // Stopped means gone, not only off its ports: a server still exiting holds its database file.
    const stopped = async () => !devServerInGroup(record.pgid, o.dbFile) && !(await busy());
    if (!(await waitUntil(stopped, 10_000))) {
      signalGroup(record.pgid, 'SIGKILL');
      await waitUntil(stopped, 5_000);
    }
    fs.rmSync(o.pidFile, { force: true });
    if (!(await busy())) return;
  }
  if (record && record.dbFile === o.dbFile) {
    // Our leftover, already gone from its group but still letting go of its ports (it ends by
    // itself once its output pipe is gone): give them a moment before blaming another program.
    if (await waitUntil(async () => !(await busy()), 5_000)) {
      fs.rmSync(o.pidFile, { force: true });
      return;
    }
  }
  const held = await busyPorts();
  if (!held.includes(Number(port))) {
    // Only the dev server's own UI port, picked free a moment ago: taken since, most often by
    // another program's passing probe for a free port. Look again for a moment before giving up.
    if (await waitUntil(async () => !(await busy()), 3_000)) return;
    throw new Error(`the port picked for the dev server's own Web UI (${o.uiPort}) was taken meanwhile: start again`);
  }
  throw new Error(
    `${o.address} (TEMPORAL_ADDRESS) is in use, and not by a Temporal dev server this checkout started. ` +
      `Find the process (lsof -i :${port}, or ss -ltnp) and stop it, ` +
      `or start on free ports: TEMPORAL_ADDRESS=127.0.0.1:7243 TEMPORAL_UI_PORT=8243 npm start`,
  );
}

/** The run that wrote the record is still running (and is not this process). */
function liveRun(record: DevServerRecord): boolean {
  if (record.ownerPid === process.pid) return false;
  // Records written before start times were kept: the pid alone has to do.
  if (record.ownerStartedAt === undefined) return alive(record.ownerPid);
  return startTimeOf(record.ownerPid) === record.ownerStartedAt;
}

function anotherRun(record: DevServerRecord, holds: string): Error {
  return new Error(
    `another npm start of this checkout is running (pid ${record.ownerPid}) and holds ${holds}: stop it first (Ctrl-C in its terminal, or kill -TERM ${record.ownerPid})`,
  );
}

/**
 * When a running process started; undefined when there is no such process, or only its zombie.
 * On Linux the kernel's start time (ticks since boot, /proc/<pid>/stat field 22): no time zone
 * or clock step changes it. Elsewhere `ps -o lstart=` read in UTC, so a run started under another
 * TZ still reads the same.
 */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis: state is field 3, start time field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    return fields[19] ? `boot+${fields[19]}` : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self/stat')) return undefined;
  }
  try {
    const line = execFileSync('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } }).trim();
    const [state, ...started] = line.split(/\s+/);
    if (!state || state.startsWith('Z')) return undefined;
    return started.join(' ') || undefined;
  } catch {
    return undefined;
  }
}

export function writeRecord(pidFile: string, record: DevServerRecord): void {
  fs.writeFileSync(pidFile, JSON.stringify(record));
}

export function removeRecord(pidFile: string): void {
  fs.rmSync(pidFile, { force: true });
}

function readRecord(pidFile: string): DevServerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(pidFile, 'utf8')) as DevServerRecord;
  } catch {
    return undefined;
  }
}

/** A `temporal server start-dev` on this database in that process group, as `ps` shows it. */
function devServerInGroup(pgid: number, dbFile: string): boolean {
  let listing: string;
  try {
    listing = execFileSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' });
  } catch {
    return false;
  }
  return listing.split('\n').some((line) => {
    const [group, ...args] = line.trim().split(/\s+/);
    const command = args.join(' ');
    return Number(group) === pgid && command.includes('start-dev') && command.includes(dbFile);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

/** Whether this process could listen on host:port now (the way the part will). */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
