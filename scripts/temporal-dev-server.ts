import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export interface DevServerOptions {
  cliPath: string;
  dbFile: string;
  address: string;
  uiPort: number;
  namespace: string;
  onOutput: (line: string) => void;
}

export interface DevServer {
  child: ChildProcess;
  stop(): Promise<void>;
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
    '--ui-port', String(o.uiPort),
    '--namespace', o.namespace,
    '--log-level', 'warn',
    ...CUSTOM_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${SA_TYPE_NAMES[k.type]}`]),
  ];
  // Its own process group: Ctrl-C reaches us, and we stop the server last, after the worker.
  const child = spawn(o.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
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
  // Never leave a server behind if this process ends without a clean stop.
  process.once('exit', () => child.kill('SIGTERM'));

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
        child.kill('SIGTERM');
        throw new Error(`temporal dev server did not answer on ${o.address} within 60 s`);
      }
    }
  }

  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
