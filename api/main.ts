import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { temporalConnectionOptions } from '../config/temporal';
import { createDb, describeDbTarget } from '../db/connection';
import { piiVaultFrom } from '../security/pii';
import { createApp, securityEventsFor } from './app';
import { listen } from './listen';

/** Production entry point: the API alone, against TEMPORAL_ADDRESS and DATABASE_URL. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const target = { databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  const db = createDb(target);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const securityEvents = securityEventsFor(config, db, logger);
  const app = createApp({ config, db, temporal, logger, vault: piiVaultFrom(config), securityEvents });
  const server = await listen(app, config.API_HOST, config.API_PORT);
  logger.info({ url: `http://${config.API_HOST}:${config.API_PORT}`, db: describeDbTarget(target) }, 'api listening');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'api stopping');
    await server.close();
    await securityEvents.stop();
    await connection.close();
    await db.destroy();
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
