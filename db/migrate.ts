import { loadConfig } from '../config/config';
import { createDb, describeDbTarget } from './connection';
import { migratorConfig } from './migrations';

/** `npm run migrate` applies every migration; `npm run migrate -- down` rolls back the last batch. */
async function main(): Promise<void> {
  const config = loadConfig();
  const target = { databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR };
  const db = createDb(target);
  try {
    const direction = process.argv[2] ?? 'up';
    if (direction === 'down') {
      const [, undone] = (await db.migrate.rollback(migratorConfig)) as [number, string[]];
      console.log(`rolled back on ${describeDbTarget(target)}: ${undone.join(', ') || 'nothing'}`);
    } else {
      const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
      console.log(`migrated ${describeDbTarget(target)}: ${applied.join(', ') || 'already up to date'}`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
