import { loadConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { sandboxOptionsFrom, startSandboxPlatform } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, 'sandbox');
  const sandbox = await startSandboxPlatform(sandboxOptionsFrom(config));
  log.info(
    { url: sandbox.url, latencyMs: config.SANDBOX_LATENCY_MS, errorRate: config.SANDBOX_ERROR_RATE },
    'sandbox platform listening',
  );

  const shutdown = (signal: NodeJS.Signals) => {
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err, signal }, 'sandbox platform failed to close');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  // pino may not exist yet (bad config), so this one goes to stderr as plain JSON.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'sandbox platform failed to start', err: String(err) })}\n`);
  process.exit(1);
});
