/**
 * `npm start`'s first step alone: the Temporal dev server as scripts/dev.ts starts it (pid file,
 * watchdog, own process group), in a process a test can kill as a killed run dies. Run with
 * `node --import tsx`; options come in DEV_SERVER_FIXTURE (JSON: cliPath, dbFile, address,
 * uiPort), and it sends `{ pgid }` over IPC once the server answers.
 */
import { startTemporalDevServer } from '../../scripts/temporal-dev-server';

async function main(): Promise<void> {
  const o = JSON.parse(process.env.DEV_SERVER_FIXTURE ?? '{}') as { cliPath: string; dbFile: string; address: string; uiPort: number };
  const server = await startTemporalDevServer({
    ...o,
    namespace: 'default',
    onOutput: () => undefined,
    warn: () => undefined,
  });
  process.send?.({ pgid: server.child.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`dev server fixture: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
