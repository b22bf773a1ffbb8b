/**
 * Archives one month of orders: its partition (`orders_YYYY_MM`, the orders paid that month,
 * Shanghai time) is detached from `orders` and moved to the `orders_archive` schema, where it
 * can be dumped (`pg_dump -t orders_archive.orders_2026_03`) and dropped. `--restore` moves
 * it back and attaches it again.
 *
 *   npm run archive-orders -- --month 2026-03 [--min-age-months 6] [--actor olga]
 *   npm run archive-orders -- --month 2026-03 --restore
 *
 * Refused, changing nothing, while the month ended less than --min-age-months ago (6) or
 * anything still needs its orders (db/repositories/order-partitions.ts lists what). Runs as
 * the schema owner (MIGRATION_DATABASE_URL, else DATABASE_URL): only the owner of `orders`
 * may detach and attach its partitions. Each direction writes an audit row.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { createOrderPartitionRepository } from '../db/repositories/order-partitions';
import { DEFAULT_ARCHIVE_MIN_AGE_MONTHS } from '../domain/order-partitions';
import { runWhenMain, withMigratedDb } from './support/main';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      month: { type: 'string' },
      restore: { type: 'boolean', default: false },
      'min-age-months': { type: 'string', default: String(DEFAULT_ARCHIVE_MIN_AGE_MONTHS) },
      actor: { type: 'string', default: os.userInfo().username },
    },
  });
  if (!values.month) throw new Error('usage: npm run archive-orders -- --month YYYY-MM [--restore] [--min-age-months N] [--actor NAME]');
  const minAgeMonths = Number(values['min-age-months']);
  const actor = { sub: values.actor, role: 'ops', requestId: `archive-orders:${randomUUID()}` };
  const config = loadConfig();
  const target = { databaseUrl: config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  await withMigratedDb(target, async (db, described) => {
    const partitions = createOrderPartitionRepository(db);
    const done = values.restore
      ? await partitions.restoreMonth(values.month!, { actor })
      : await partitions.archiveMonth(values.month!, { now: new Date(), minAgeMonths, actor });
    console.log(`${described}: ${done.month} ${values.restore ? 'restored' : 'archived'}: ${done.orders} orders in ${done.partition}`);
  });
}

runWhenMain(module, main);
