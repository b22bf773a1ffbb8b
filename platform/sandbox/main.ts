import { loadConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { stopOnSignals } from '../../config/shutdown';
import { sandboxOptionsFrom, startSandboxPlatform } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, 'sandbox');
  const sandbox = await startSandboxPlatform(sandboxOptionsFrom(config));
  log.info(
    { url: sandbox.url, partners: `${sandbox.url}/partners`, latencyMs: config.SANDBOX_LATENCY_MS, errorRate: config.SANDBOX_ERROR_RATE },
    'sandbox platform listening',
  );

  stopOnSignals({ log, graceMs: config.SHUTDOWN_GRACE_MS, stop: () => sandbox.close(config.SHUTDOWN_GRACE_MS) });
}

main().catch((err: unknown) => {
  // pino may not exist yet (bad config), so this one goes to stderr as plain JSON.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'sandbox platform failed to start', err: String(err) })}\n`);
  process.exit(1);
});
