import type { Knex } from 'knex';

/**
 * Indexes the lists page through (issue 12: work queues with cursor pagination). Each serves
 * a list's order, so a page is a range read from where the cursor points, never a scan of
 * every row before it:
 *
 * - verification queue: deadline first, no deadline last, then id; alone and within a status
 *   (`COALESCE(deadline, 'infinity')` is the sort key of db/repositories/verification-queue.ts);
 * - violation cases: newest first (read backwards), alone and within a status;
 * - statements: latest period first, then by merchant (the primary key starts with the
 *   merchant, which serves a merchant's own list);
 * - shops by status, for the closing and closed ones.
 *
 * Built without CONCURRENTLY: knex runs a migration in a transaction, and these tables are
 * small next to orders (which gets no new index here).
 */
const INDEXES = [
  ['verification_cases_queue_idx', `verification_cases ((COALESCE(deadline, 'infinity'::timestamptz)), id)`],
  ['verification_cases_status_queue_idx', `verification_cases (status, (COALESCE(deadline, 'infinity'::timestamptz)), id)`],
  ['violation_cases_opened_idx', 'violation_cases (opened_at, id)'],
  ['violation_cases_status_opened_idx', 'violation_cases (status, opened_at, id)'],
  ['statements_period_merchant_idx', 'statements (period DESC, merchant_id)'],
  ['shops_status_idx', 'shops (status, id)'],
] as const;

export const LIST_INDEXES = INDEXES.map(([name]) => name);

export async function up(db: Knex): Promise<void> {
  for (const [name, on] of INDEXES) await db.raw(`CREATE INDEX ${name} ON ${on}`);
}

export async function down(db: Knex): Promise<void> {
  for (const [name] of [...INDEXES].reverse()) await db.raw(`DROP INDEX IF EXISTS ${name}`);
}
