import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import type { Principal } from '../api/auth';
import { createVerificationList, verificationListQuery } from '../api/verifications/list';
import { withBenchDatabase } from './database';

/**
 * `npm run bench:lists [-- --cases 200000 --merchants 20000 --limit 200 --max-pages 1000]`
 *
 * Seeds N verification cases in a fresh database on DATABASE_URL's server (inside the database,
 * INSERT ... SELECT ... FROM generate_series), then times pages of the reviewers' queue as
 * GET /v1/verifications serves them: the API's list function (cursor checked and decoded, the
 * page read through db/repositories/verification-queue.ts, items and the next cursor made), one
 * page after another by nextCursor, for the queries of the README's "Work queues" section. It
 * prints the median and p99 page time of each query and of all pages together.
 *
 * The cases: a quarter in review, a few awaiting resubmission or needing attention (submitted
 * in the last 10 days, deadlines 3 working days later, some past), the rest closed over the
 * year before; 5% have no deadline yet; 30% enterprises; 10% changes of entity.
 */
const NOW = '2026-12-07T04:00:00Z';

const SEED_MERCHANTS_SQL = `
INSERT INTO merchants (id, entity_type, legal_name, verification_status)
SELECT 'm-' || lpad(g::text, :idWidth, '0'), 'individual', 'Legal name of m-' || g, 'verified'
  FROM generate_series(1, CAST(:merchants AS integer)) AS g`;

const SEED_CASES_SQL = `
INSERT INTO verification_cases (id, merchant_id, workflow_id, kind, entity_type, legal_name, status, submitted_at, deadline, overdue, closed_at)
SELECT c.id, c.merchant_id, c.kind || ':' || c.merchant_id, c.kind, c.entity_type, 'Legal name of ' || c.merchant_id, c.status,
       c.submitted_at, c.deadline, COALESCE(c.status IN ('in_review', 'needs_attention') AND c.deadline < CAST(:now AS timestamptz), false),
       CASE WHEN c.open THEN NULL ELSE c.submitted_at + interval '2 days' END
  FROM (
    SELECT s.*,
           CASE WHEN s.r_deadline < 0.05 THEN NULL ELSE s.submitted_at + interval '3 days' END AS deadline
      FROM (
        SELECT x.id, x.merchant_id, x.kind, x.entity_type, x.status, x.open,
               CAST(:now AS timestamptz) - (CASE WHEN x.open THEN 10 ELSE 365 END) * x.r_time * interval '1 day' AS submitted_at,
               x.r_deadline
          FROM (
            SELECT 'vc_' || substr(md5(g::text), 1, 20) AS id,
                   'm-' || lpad((1 + (g * 7919) % :merchants)::text, :idWidth, '0') AS merchant_id,
                   CASE WHEN r_kind < 0.1 THEN 'entity_change' ELSE 'verification' END AS kind,
                   CASE WHEN r_entity < 0.3 THEN 'enterprise' ELSE 'individual' END AS entity_type,
                   CASE WHEN r_status < 0.25 THEN 'in_review'
                        WHEN r_status < 0.29 THEN 'awaiting_resubmission'
                        WHEN r_status < 0.30 THEN 'needs_attention'
                        WHEN r_status < 0.80 THEN 'approved'
                        WHEN r_status < 0.92 THEN 'rejected'
                        WHEN r_status < 0.97 THEN 'abandoned'
                        ELSE 'closed_by_ops' END AS status,
                   r_status < 0.30 AS open,
                   r_time, r_deadline
              FROM (
                SELECT g, random() AS r_kind, random() AS r_entity, random() AS r_status, random() AS r_time, random() AS r_deadline
                  FROM generate_series(1, CAST(:cases AS integer)) AS g
              ) r
          ) x
      ) s
  ) c`;

interface Scenario {
  name: string;
  query: Record<string, string>;
  principal: Principal;
}

const STAFF: Principal = { sub: 'bench-reviewer', role: 'reviewer' };

async function seed(db: Knex, cases: number, merchants: number): Promise<number> {
  const started = performance.now();
  const idWidth = Math.max(5, String(merchants).length);
  await db.raw(SEED_MERCHANTS_SQL, { merchants, idWidth });
  // setseed and the INSERT share a connection only inside a transaction: same seed, same cases.
  await db.transaction(async (trx) => {
    await trx.raw('SELECT setseed(0.42)');
    await trx.raw(SEED_CASES_SQL, { cases, merchants, idWidth, now: NOW });
  });
  await db.raw('ANALYZE merchants');
  await db.raw('ANALYZE verification_cases');
  return performance.now() - started;
}

/** Walks one query from its first page by nextCursor; the time of each page, in ms. */
async function walk(list: ReturnType<typeof createVerificationList>, s: Scenario, limit: number, maxPages: number): Promise<{ times: number[]; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  let cursor: string | undefined;
  do {
    const query = verificationListQuery.parse({ ...s.query, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const started = performance.now();
    const page = await list(query, s.principal);
    times.push(performance.now() - started);
    rows += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && times.length < maxPages);
  return { times, rows };
}

/** The nearest-rank percentile of the values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '200000' },
      merchants: { type: 'string', default: '20000' },
      limit: { type: 'string', default: '200' },
      'max-pages': { type: 'string', default: '1000' },
    },
  });
  const cases = Number(values.cases);
  const merchants = Number(values.merchants);
  const limit = Number(values.limit);
  const maxPages = Number(values['max-pages']);
  if (!Number.isSafeInteger(cases) || cases < 1) throw new Error(`--cases must be a positive integer, got ${values.cases}`);
  if (!Number.isSafeInteger(merchants) || merchants < 1 || merchants > cases) throw new Error(`--merchants must be between 1 and --cases, got ${values.merchants}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) throw new Error(`--limit must be 1–200 (the API's range), got ${values.limit}`);

  await withBenchDatabase(async (db) => {
    const seedMs = await seed(db, cases, merchants);
    console.log(`seeded ${cases} verification cases over ${merchants} merchants in ${(seedMs / 1000).toFixed(1)} s`);
    const list = createVerificationList(db);

    // Merchants' own lists: a handful of pages each, for a spread of merchants.
    const someMerchants = Array.from({ length: 200 }, (_, i) => `m-${String(1 + ((i * 97) % merchants)).padStart(Math.max(5, String(merchants).length), '0')}`);
    const scenarios: Scenario[] = [
      { name: 'the whole queue (no filter)', query: {}, principal: STAFF },
      { name: 'status=in_review', query: { status: 'in_review' }, principal: STAFF },
      { name: 'overdue=true', query: { overdue: 'true' }, principal: STAFF },
      { name: 'entityType=enterprise&submittedFrom=2026-03-01&submittedTo=2026-03-31', query: { entityType: 'enterprise', submittedFrom: '2026-03-01', submittedTo: '2026-03-31' }, principal: STAFF },
      ...someMerchants.map((merchantId) => ({ name: 'a merchant its own (200 merchants)', query: {}, principal: { sub: merchantId, role: 'merchant' as const, merchantId } })),
    ];

    // Warm-up, not counted: the connection pool and the first plans.
    await walk(list, scenarios[0]!, limit, 20);

    // The staff queries' pages together: what a reviewer paging the queue waits for. A
    // merchant's own list is a page of its few cases, reported on its own line only.
    const staffPages: number[] = [];
    const byName = new Map<string, { times: number[]; rows: number }>();
    for (const s of scenarios) {
      const { times, rows } = await walk(list, s, limit, maxPages);
      const seen = byName.get(s.name) ?? { times: [], rows: 0 };
      seen.times.push(...times);
      seen.rows += rows;
      byName.set(s.name, seen);
      if (s.principal.role !== 'merchant') staffPages.push(...times);
    }
    for (const [name, { times, rows }] of byName) {
      console.log(`GET /v1/verifications ${name}: ${times.length} pages (${rows} rows), median ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}, max ${ms(Math.max(...times))}`);
    }
    console.log(`staff queries, ${staffPages.length} pages of ${limit}: median ${ms(percentile(staffPages, 50))}, p99 ${ms(percentile(staffPages, 99))}`);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
