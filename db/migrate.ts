import { loadConfig } from '../config/config';
import { createDb, describeDbTarget } from './connection';
import { migratorConfig } from './migrations';
import { migrateAndGrant } from './roles';

/**
 * `npm run migrate` applies every migration as the schema owner (MIGRATION_DATABASE_URL, else
 * DATABASE_URL) and grants DATABASE_URL's role its DML; `npm run migrate -- down` rolls back
 * the last batch.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const ownerUrl = config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL;
  const target = { databaseUrl: ownerUrl, pgliteDir: config.PGLITE_DIR };
  const db = createDb(target);
  try {
    const direction = process.argv[2] ?? 'up';
    if (direction === 'down') {
      const [, undone] = (await db.migrate.rollback(migratorConfig)) as [number, string[]];
      process.stdout.write(`rolled back on ${describeDbTarget(target)}: ${undone.join(', ') || 'nothing'}\n`);
    } else {
      const applied = await migrateAndGrant(db, ownerUrl, config.DATABASE_URL);
      process.stdout.write(`migrated ${describeDbTarget(target)}: ${applied.join(', ') || 'already up to date'}\n`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
