import { createDb, describeDbTarget, type Db, type DbTarget } from '../../db/connection';
import { migrateToLatest } from '../../db/migrations';

/**
 * Runs a script's `main` when its file is the one run (`npm run …`, `tsx scripts/…`), not when
 * a test imports the file for its functions. A failure prints its message, not a stack: these
 * are operator commands, and the message says what to fix.
 */
export function runWhenMain(module: NodeModule, main: () => Promise<void>): void {
  if (require.main !== module) return;
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}

/**
 * Brings the target database to the latest migration, then runs `work` on it; the connection
 * is closed whatever happens, so the script can exit.
 */
export async function withMigratedDb<T>(target: DbTarget, work: (db: Db, described: string) => Promise<T>): Promise<T> {
  const db = createDb(target);
  try {
    await migrateToLatest(db);
    return await work(db, describeDbTarget(target));
  } finally {
    await db.destroy();
  }
}
