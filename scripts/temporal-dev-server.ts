import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { clearStaleDevServer, pidFileOf, removeRecord, startTimeOf, writeRecord } from './support/stale-dev-server';

const WATCHDOG = path.join(__dirname, 'support/exit-with-parent.cjs');
// SIGTERM lets the server flush its database file; a server that takes longer is killed.
const STOP_TIMEOUT_MS = 5_000;

export interface DevServerOptions {
  cliPath: string;
  dbFile: string;
  address: string;
  /** The embedded UI's own port, on loopback: scripts/read-only-ui.ts serves it to the user. */
  uiPort: number;
  namespace: string;
  onOutput: (line: string) => void;
  warn: (message: string, details: Record<string, unknown>) => void;
}

export interface DevServer {
  child: ChildProcess;
  uiPort: number;
  stop(): Promise<void>;
  /** Last resort, synchronous: SIGKILL the server's whole process group. */
  kill(): void;
}

const SA_TYPE_NAMES: Record<string, string> = { KEYWORD: 'Keyword', BOOL: 'Bool', DATETIME: 'Datetime', INT: 'Int', TEXT: 'Text' };

/**
 * Runs `temporal server start-dev` persisted to a file, so workflows in flight survive
 * a restart of the dev stack, and waits until it answers.
 */
export async function startTemporalDevServer(o: DevServerOptions): Promise<DevServer> {
  if (!fs.existsSync(o.cliPath)) throw new Error(`no temporal CLI at ${o.cliPath}: run npm run tools`);
  fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const [ip, port] = o.address.split(':');
  const args = [
    'server', 'start-dev',
    '--db-filename', o.dbFile,
    '--ip', ip ?? '127.0.0.1',
    '--port', port ?? '7233',
    '--ui-ip', '127.0.0.1',
    '--ui-port', String(o.uiPort),
    '--namespace', o.namespace,
    '--log-level', 'warn',
    ...CUSTOM_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${SA_TYPE_NAMES[k.type]}`]),
  ];
  const pidFile = pidFileOf(o.dbFile);
  await clearStaleDevServer({ pidFile, address: o.address, uiPort: o.uiPort, dbFile: o.dbFile, warn: o.warn });
  // Its own process group, so Ctrl-C reaches us and we stop the server last, after the worker;
  // run under a watchdog that stops it if this process dies without stopping it (even SIGKILL).
  const child = spawn(process.execPath, [WATCHDOG, o.cliPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const pgid = child.pid!;
  writeRecord(pidFile, { ownerPid: process.pid, ownerStartedAt: startTimeOf(process.pid), pgid, address: o.address, uiPort: o.uiPort, dbFile: o.dbFile });
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      lines.filter((l) => l.trim()).forEach(o.onOutput);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pgid, signal);
    } catch {
      // the group is gone
    }
  };
  // A plain exit (an uncaught error) still stops the server; SIGKILL is left to the watchdog.
  process.once('exit', () => {
    if (child.exitCode === null && child.signalCode === null) signalGroup('SIGTERM');
  });

  const giveUpAt = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 250))]);
    if (early !== 'running') throw new Error(`temporal dev server exited with code ${early} while starting`);
    try {
      const connection = await Connection.connect({ address: o.address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch {
      if (Date.now() > giveUpAt) {
        signalGroup('SIGKILL');
        throw new Error(`temporal dev server did not answer on ${o.address} within 60 s`);
      }
    }
  }

  return {
    child,
    uiPort: o.uiPort,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      removeRecord(pidFile);
    },
    kill: () => signalGroup('SIGKILL'),
  };
}
