/**
 * A process that stops as the API does (stopOnSignals + the listener's drain), with one slow
 * route, so a test can signal it mid-request. Run with `node --import tsx`; it sends its port
 * over IPC once it listens. STOP_FIXTURE_GRACE_MS sets its grace time.
 */
import express from 'express';
import pino from 'pino';
import { listen } from '../../api/listen';
import { stopOnSignals } from '../../config/shutdown';

async function main(): Promise<void> {
  const graceMs = Number(process.env.STOP_FIXTURE_GRACE_MS ?? 5_000);
  const app = express();
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.json({ answered: true }), 1_500);
  });
  const server = await listen(app, '127.0.0.1', 0);
  let stops = 0;
  stopOnSignals({
    log: pino({ level: 'silent' }),
    graceMs,
    stop: async () => {
      stops += 1;
      await server.close(graceMs);
      process.stdout.write(`stops=${stops}\n`);
    },
  });
  const address = server.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
}

void main();
