import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { withSeededTemplate, type BenchCopy } from './database';
import { cpuSnapshot, describeCpu, postmasterOf, temporalServerPid, type CpuParts } from './cpu';
import { createStatementRepository } from '../db/repositories/settlement/statements';
import { createSettlementQueries } from '../db/repositories/settlement/queries';
import { DEFAULT_SETTLEMENT_THRESHOLDS } from '../domain/settlement';
import { startSandboxPlatform, type RunningSandbox } from '../platform/sandbox';
import { seedOrders } from '../scripts/seed-orders';
// Also installs a Temporal runtime that logs warnings only.
import { temporalCliPath } from '../test/support/temporal';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { SETTLEMENT_DEFAULT_LANES, SETTLEMENT_WORKFLOW_TYPE, settlementWorkflowId, type SettlementResult } from '../workflows/settlement.defs';

/**
 * `npm run bench:settlement [-- --orders 1000000 --merchants 10000 --workers 1,2 --lanes 2]`
 * `npm run bench:settlement -- --growth` (= `--orders 1000000,10000000`)
 *
 * For each size: seeds the orders once into a template database; then each timed part runs on
 * a fresh copy of it (CREATE DATABASE … TEMPLATE), so every part starts from the same data:
 *   (a) the bare SQL floor: the set-based statements insert plus marking the orders settled,
 *       for all merchants at once, in one statement in a transaction that is rolled back;
 *   (b) the full settlement through Temporal, once for each --workers N: the monthlySettlement
 *       workflow on a local Temporal dev server, N worker processes with the real activities
 *       polling its task queue, the run split into lanes (by default the workflow's 2) whose
 *       batches the workers share, heartbeats, and payouts through the sandbox platform.
 * After each (b) it prints checksums of the statements, of the payouts as recorded and as the
 * platform saw them, of the orders' settled marks and of the run's row; they must be the same
 * for every N (the exit code is 1 otherwise). It prints each time, b/a, the CPU each process
 * spent, and with several sizes the time per million orders and its growth.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '1000000' },
      merchants: { type: 'string', default: '10000' },
      workers: { type: 'string', default: '1,2' },
      lanes: { type: 'string' },
      growth: { type: 'boolean', default: false },
      period: { type: 'string', default: '2026-10' },
    },
  });
  const sizes = listOf(values.growth ? '1000000,10000000' : values.orders!);
  const merchantCounts = listOf(values.merchants!);
  if (merchantCounts.length !== 1 && merchantCounts.length !== sizes.length) throw new Error('--merchants: one count, or one per --orders size');
  const workerCounts = listOf(values.workers!);
  // The workflow's own default unless told: N=1 and N=2 then differ only in worker processes.
  const lanesOf = () => (values.lanes ? Number(values.lanes) : SETTLEMENT_DEFAULT_LANES);
  const period = values.period!;

  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
  });
  const bundle = await writeWorkflowBundle();
  const figures: SizeFigures[] = [];
  let mismatch = false;
  try {
    await ensureSearchAttributes(env.connection, 'default');
    for (const [i, orders] of sizes.entries()) {
      const merchants = merchantCounts[merchantCounts.length === 1 ? 0 : i]!;
      console.log(`\n== ${orders} orders over ${merchants} merchants ==`);
      await withSeededTemplate(
        async (db) => {
          const seeded = await seedOrders(db, { orders, merchants, period });
          console.log(`seeded ${seeded.inserted} orders over ${merchants} merchants in ${(seeded.ms / 1000).toFixed(1)} s (the template; each part runs on a fresh copy)`);
        },
        async (copy) => {
          const size: SizeFigures = { orders, floorMs: 0, runs: [] };
          figures.push(size);
          size.floorMs = await timedFloor(await copy(), period);
          if (lanesOf() > 1) size.laneFloorMs = await timedFloor(await copy(), period, lanesOf());
          for (const workers of workerCounts) {
            const run = await timedRun(await copy(), env, bundle, { period, workers, lanes: lanesOf(), orders });
            size.runs.push(run);
            const laneRatio = size.laneFloorMs ? `; b/a2 = ${(run.ms / size.laneFloorMs).toFixed(2)}` : '';
            console.log(`    b/a = ${(run.ms / size.floorMs).toFixed(2)} (goal ≤ ${goalAt(orders)} at this size)${laneRatio}`);
          }
          mismatch = !sameChecksums(size) || mismatch;
        },
      );
    }
  } finally {
    await env.teardown();
    fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  }
  summarise(figures);
  if (mismatch) {
    console.error('FAILED: the runs did not end with the same statements, payouts and marks');
    process.exitCode = 1;
  }
}

const listOf = (value: string) =>
  value.split(',').map((v) => {
    const n = Number(v.trim().replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive whole number: ${v}`);
    return n;
  });

interface RunFigures {
  workers: number;
  lanes: number;
  ms: number;
  checksums: Record<string, string>;
}

/** The issue's goals: b/a ≤ 1.2 at 1M orders, ≤ 1.5 at 10M. */
const goalAt = (orders: number) => (orders >= 10_000_000 ? 1.5 : 1.2);

interface SizeFigures {
  orders: number;
  floorMs: number;
  /** (a2): the floor split into the run's lanes, at once. */
  laneFloorMs?: number;
  runs: RunFigures[];
}

/** The workflows bundled once, for every worker process to load instead of bundling its own. */
async function writeWorkflowBundle(): Promise<string> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: quiet, error: (m) => console.error(m) },
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-settlement-')), 'workflows.js');
  fs.writeFileSync(file, code);
  return file;
}

/**
 * (a) on its own copy, the copy dropped afterwards: the statement over every merchant at once,
 * or with `parts` > 1 (a2) the same statement over `parts` disjoint merchant ranges (the lanes'
 * bounds) at once, each on its own connection: the floor for a run that settles in lanes, since
 * PostgreSQL runs one data-modifying statement on one core.
 */
async function timedFloor(copy: BenchCopy, period: string, parts = 1): Promise<number> {
  try {
    await copy.db.raw('CHECKPOINT').catch(() => undefined);
    const { bounds } = parts > 1 ? await createSettlementQueries(copy.db).laneBounds(period, parts, 1) : { bounds: [] as string[] };
    const ranges = [...bounds, null].map((upTo, i) => ({ after: i === 0 ? '' : bounds[i - 1]!, upTo }));
    const cpu = await cpuParts(copy.db, {});
    const before = cpuSnapshot(cpu);
    const started = performance.now();
    await Promise.all(
      ranges.map(({ after, upTo }) =>
        copy.db
          .transaction(async (trx) => {
            await createStatementRepository(trx).settleMerchantRange(period, after, upTo, DEFAULT_SETTLEMENT_THRESHOLDS);
            throw new RolledBack();
          })
          .catch((err: unknown) => {
            if (!(err instanceof RolledBack)) throw err;
          }),
      ),
    );
    const ms = performance.now() - started;
    const what =
      ranges.length === 1
        ? '(a) SQL floor: statements insert + orders marked, all merchants at once'
        : `(a2) SQL floor in ${ranges.length} merchant ranges at once, one connection each`;
    console.log(`${what}: ${(ms / 1000).toFixed(2)} s`);
    console.log(`    CPU: ${describeCpu(before, cpuSnapshot(cpu), ms)}`);
    return ms;
  } finally {
    await copy.drop();
  }
}

class RolledBack extends Error {}

/** (b) on its own copy with its own platform and `workers` worker processes; the checksums after it. */
async function timedRun(
  copy: BenchCopy,
  env: TestWorkflowEnvironment,
  bundle: string,
  { period, workers, lanes, orders }: { period: string; workers: number; lanes: number; orders: number },
): Promise<RunFigures> {
  const sandbox = await startSandboxPlatform({ port: 0, token: 'bench' });
  const taskQueue = `bench-${orders}-${workers}`;
  const children: ChildProcess[] = [];
  try {
    for (let i = 1; i <= workers; i++) children.push(await startWorker(i, { databaseUrl: copy.databaseUrl, address: env.address, taskQueue, bundle, platformUrl: sandbox.url }));
    await copy.db.raw('CHECKPOINT').catch(() => undefined);
    const cpu = await cpuParts(copy.db, Object.fromEntries(children.map((c, i) => [`worker ${i + 1}`, c.pid!])));
    const client = new Client({ connection: env.connection });
    const workflowId = `${settlementWorkflowId(period)}:bench-${orders}-${workers}`;
    const before = cpuSnapshot(cpu);
    const started = performance.now();
    const result = (await client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId, taskQueue, args: [{ period, lanes }] })) as SettlementResult;
    const ms = performance.now() - started;
    const after = cpuSnapshot(cpu);
    const activities = await activitiesOf(client, workflowId);
    console.log(
      `(b) full settlement through Temporal, ${workers} worker process${workers === 1 ? '' : 'es'}, ${lanes} lane${lanes === 1 ? '' : 's'} asked: ${(ms / 1000).toFixed(2)} s ` +
        `(${result.statements} statements, ${result.payouts} payouts)`,
    );
    console.log(`    ${activities}`);
    console.log(`    CPU: ${describeCpu(before, after, ms)}`);
    await Promise.all(children.map(stopWorker));
    const checksums = await checksumsOf(copy.db, sandbox, period);
    console.log(`    checksums: ${Object.entries(checksums).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return { workers, lanes, ms, checksums };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sandbox.close();
    await copy.drop();
  }
}

/** A worker process (bench/settlement-worker.ts); resolves once it polls. */
async function startWorker(n: number, t: { databaseUrl: string; address: string; taskQueue: string; bundle: string; platformUrl: string }): Promise<ChildProcess> {
  const child = fork(require.resolve('./settlement-worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      DATABASE_URL: t.databaseUrl,
      TEMPORAL_ADDRESS: t.address,
      TEMPORAL_TASK_QUEUE: t.taskQueue,
      PLATFORM_BASE_URL: t.platformUrl,
      PLATFORM_API_TOKEN: 'bench',
      BENCH_WORKFLOW_BUNDLE: t.bundle,
      BENCH_WORKER_NAME: `worker ${n}`,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`worker ${n} exited with ${code} before polling`)));
  });
  return child;
}

/** SIGTERM, then up to 30 s to finish what it runs (nothing, once the run is over). */
async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(late);
}

/** The processes that share the machine's cores with the timed part. */
async function cpuParts(db: Knex, workers: Record<string, number>): Promise<CpuParts> {
  const roots: Record<string, number> = { ...workers };
  const backend = (await db.raw('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
  const postmaster = postmasterOf(backend.pid);
  if (postmaster !== undefined) roots.postgres = postmaster;
  const temporal = temporalServerPid();
  if (temporal !== undefined) roots['Temporal server'] = temporal;
  return { roots, self: 'bench (client, sandbox platform)' };
}

/**
 * From the run's histories (it may continue as new): how many settleBatch attempts each worker
 * process ran, and how long each activity type took from scheduled to completed (the lanes'
 * batches overlap, so their span is given too: first scheduled to last completed).
 */
async function activitiesOf(client: Client, workflowId: string): Promise<string> {
  const counts = new Map<string, number>();
  const times = new Map<string, number>();
  let batchSpan: [number, number] | undefined;
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  let runId: string | undefined;
  do {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const scheduled = new Map<string, { type: string; at: number }>();
    for (const e of history.events ?? []) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) scheduled.set(String(e.eventId), { type, at: ms(e.eventTime) });
      const startedEvent = e.activityTaskStartedEventAttributes;
      if (startedEvent && scheduled.get(String(startedEvent.scheduledEventId))?.type === 'settleBatch') {
        counts.set(startedEvent.identity ?? '?', (counts.get(startedEvent.identity ?? '?') ?? 0) + 1);
      }
      const done = e.activityTaskCompletedEventAttributes;
      const of = done ? scheduled.get(String(done.scheduledEventId)) : undefined;
      if (of) {
        const end = ms(e.eventTime);
        times.set(of.type, (times.get(of.type) ?? 0) + end - of.at);
        if (of.type === 'settleBatch') batchSpan = [Math.min(batchSpan?.[0] ?? of.at, of.at), Math.max(batchSpan?.[1] ?? end, end)];
      }
    }
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  const byWorker = [...counts].sort().map(([worker, n]) => `${worker} ${n}`).join(', ');
  const byType = [...times].map(([type, t]) => `${type} ${(t / 1000).toFixed(2)} s`).join(', ');
  const span = batchSpan ? `; the batches spanned ${((batchSpan[1] - batchSpan[0]) / 1000).toFixed(2)} s` : '';
  return `settleBatch attempts by worker: ${byWorker}; activity time by type: ${byType}${span}`;
}

/**
 * What the run left, as digests that do not depend on the order in which lanes wrote it:
 * every statement's figures and every payout as recorded (md5 of the rows ordered by
 * merchant), the payouts the platform made (the same over its own records), the orders'
 * settled marks (a sum of row hashes: no sort of millions of rows) and the run's row.
 */
async function checksumsOf(db: Knex, sandbox: RunningSandbox, period: string): Promise<Record<string, string>> {
  const one = async (sql: string) => ((await db.raw(sql, { period })) as { rows: Array<{ n: number; digest: string }> }).rows[0]!;
  const statements = await one(`
    SELECT count(*)::int AS n, md5(COALESCE(string_agg(concat_ws(',', merchant_id, period, gmv_fen, union_fee_fen, channel_fee_fen, refunds_fen,
           carried_in_fen, forfeited_fen, net_fen, payout_fen, carried_out_fen, owed_fen, kind, line_count, status, payout_id), ';' ORDER BY merchant_id), '')) AS digest
      FROM statements WHERE period = :period`);
  const payouts = await one(`
    SELECT count(*)::int AS n, md5(COALESCE(string_agg(concat_ws(',', idempotency_key, merchant_id, period, amount_fen, status), ';' ORDER BY merchant_id), '')) AS digest
      FROM payouts WHERE period = :period`);
  const orders = await one(`
    SELECT count(*)::int AS n, COALESCE(sum(hashtextextended(concat_ws(',', id, settled_period, refund_settled_period), 0)), 0)::text AS digest
      FROM orders WHERE settled_period IS NOT NULL`);
  const run = await one(`
    SELECT 1 AS n, md5(concat_ws(',', status, merchants_done, totals::text, failures::text)) AS digest FROM settlement_runs WHERE period = :period`);
  const paid = sandbox.state.payouts
    .filter((p) => p.period === period)
    .map((p) => [p.merchantId, p.period, p.amountFen].join(','))
    .sort();
  const platform = { n: paid.length, digest: createHash('md5').update(paid.join(';')).digest('hex') };
  const show = (c: { n: number; digest: string }) => `${c.n}/${c.digest}`;
  return { statements: show(statements), payouts: show(payouts), 'platform payouts': show(platform), 'orders marked': show(orders), run: show(run) };
}

/** Every run of a size ended with the same checksums as its first. */
function sameChecksums(size: SizeFigures): boolean {
  const [first, ...rest] = size.runs;
  let same = true;
  for (const run of rest) {
    for (const [what, digest] of Object.entries(run.checksums)) {
      if (digest !== first!.checksums[what]) {
        console.error(`MISMATCH at ${size.orders} orders: ${what} with ${run.workers} workers ${digest}, with ${first!.workers} ${first!.checksums[what]}`);
        same = false;
      }
    }
  }
  if (same && rest.length > 0) console.log(`    the same statements, payouts (ours and the platform's), marks and run row for workers = ${size.runs.map((r) => r.workers).join(', ')}`);
  return same;
}

function summarise(figures: SizeFigures[]): void {
  const perMillion = (ms: number, orders: number) => ms / 1000 / (orders / 1_000_000);
  const secs = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));
  const ratio = (b: number, a: number | undefined) => (a === undefined ? '-' : (b / a).toFixed(2));
  console.log('\norders      workers lanes  (a) s   (a2) s  (b) s   b/a   b/a2  (a) s per 1M  (b) s per 1M  speed-up of (b) over the first N');
  for (const size of figures) {
    for (const run of size.runs) {
      console.log(
        `${String(size.orders).padEnd(11)} ${String(run.workers).padEnd(7)} ${String(run.lanes).padEnd(6)} ${secs(size.floorMs).padEnd(7)} ${secs(size.laneFloorMs).padEnd(7)} ` +
          `${secs(run.ms).padEnd(7)} ${ratio(run.ms, size.floorMs).padEnd(5)} ${ratio(run.ms, size.laneFloorMs).padEnd(5)} ` +
          `${perMillion(size.floorMs, size.orders).toFixed(2).padEnd(13)} ${perMillion(run.ms, size.orders).toFixed(2).padEnd(13)} ${(size.runs[0]!.ms / run.ms).toFixed(2)}`,
      );
    }
  }
  const [small, large] = [figures[0], figures[figures.length - 1]];
  if (figures.length > 1 && small && large) {
    const growth = (a: number, b: number) => (perMillion(b, large.orders) / perMillion(a, small.orders)).toFixed(2);
    const label = `${large.orders / 1_000_000}M vs ${small.orders / 1_000_000}M`;
    const parts = [`(a) ×${growth(small.floorMs, large.floorMs)}`];
    if (small.laneFloorMs && large.laneFloorMs) parts.push(`(a2) ×${growth(small.laneFloorMs, large.laneFloorMs)}`);
    for (const run of large.runs) {
      const before = small.runs.find((r) => r.workers === run.workers);
      if (before) parts.push(`(b) ${run.workers} worker${run.workers === 1 ? '' : 's'} ×${growth(before.ms, run.ms)}`);
    }
    console.log(`growth of the time per million orders, ${label}: ${parts.join(', ')} (1.00: linear)`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
