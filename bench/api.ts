import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { actorOf, newCaseId } from '../api/verifications/case-ids';
import { loadConfig } from '../config/config';
import { createDb } from '../db/connection';
import { migrateToLatest } from '../db/migrations';
import { signToken, maxTokenLifetimeSeconds } from '../security/tokens';
import { individualRequest } from '../test/support/fixtures';
// Also installs a Temporal runtime that logs warnings only.
import { temporalCliPath } from '../test/support/temporal';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { processSummary } from '../workflows/process';
import { BUSINESS_STATUS, MERCHANT_ID, OVERDUE, PROCESS_TYPE } from '../workflows/search-attributes';
import { verificationProcess, verificationWorkflowId, type VerificationInput } from '../workflows/verification.defs';
import { startApiProcess, postJson, type ApiProcess } from './api-process';
import { withBenchDatabase } from './database';
import { cpuSnapshot, describeCpu, postmasterOf, temporalServerPid, type CpuParts, type CpuSnapshot } from './cpu';

/**
 * `npm run bench:api [-- --starts 2000 --concurrency 32 --warmup 32 --rounds 4 --db both|postgres|pglite --profile DIR]`
 *
 * On one local Temporal dev server, for each database the API can run on (PostgreSQL: a fresh
 * migrated bench database on DATABASE_URL's server; PGlite: a fresh folder, migrated):
 *   (raw) N verification processes started with client.workflow.start from this process, with
 *         the options the API's start uses (id, conflict and reuse policies, search attributes,
 *         summary), C at a time;
 *   (api) N verification reviews started through POST /v1/verifications of `npm run start:api`
 *         in a process of its own, by C clients in this process, each request with its own
 *         merchant's token (minted as `npm run token` does) and a valid body: authentication,
 *         the audit rows, validation, the identity check, the case's rows, the start, the run id.
 * Each path is warmed up first (W starts, not timed); then they take turns, N/rounds starts at a
 * time, so load from outside the bench and the server's growth weigh on both alike. It prints throughput, p50 and p99 latency,
 * the ratio api/raw (goal ≥ 0.8) and the CPU of each process; then proves it: every API start
 * left its case (with its run id), its submission and its audit rows, and every started run of
 * both paths exists on the server (visibility count per task queue, and a sample described).
 * No worker runs: a start is answered without one; the runs wait on their task queues.
 */

interface Options {
  starts: number;
  concurrency: number;
  warmup: number;
  rounds: number;
  profile?: string;
}

interface Timed {
  ms: number;
  latencies: number[];
}

interface PhaseResult {
  db: string;
  raw: Timed;
  api: Timed;
}

const API_QUEUE = (db: string) => `bench-api-${db}`;
const RAW_QUEUE = (db: string) => `bench-raw-${db}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      starts: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '32' },
      rounds: { type: 'string', default: '4' },
      db: { type: 'string', default: 'both' },
      // A folder for the API's CPU profiles (node --cpu-prof), one per database.
      profile: { type: 'string' },
    },
  });
  const options: Options = { starts: Number(values.starts), concurrency: Number(values.concurrency), warmup: Number(values.warmup), rounds: Number(values.rounds), profile: values.profile && path.resolve(values.profile) };
  const dbs = values.db === 'both' ? ['postgres', 'pglite'] : [values.db!];
  if (!dbs.every((d) => d === 'postgres' || d === 'pglite')) throw new Error('--db must be both, postgres or pglite');

  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
  });
  const results: PhaseResult[] = [];
  try {
    await ensureSearchAttributes(env.connection, 'default');
    const client = new Client({ connection: env.connection });
    const temporalEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' };
    console.log(`${options.starts} starts a path, ${options.concurrency} at a time, after ${options.warmup} untimed; ${os.availableParallelism()} cores shared by every process`);
    for (const db of dbs) {
      if (db === 'postgres') {
        await withBenchDatabase(async (owner, databaseUrl) => {
          results.push(await phase('postgres', client, options, { ...temporalEnv, DATABASE_URL: databaseUrl }, async () => owner, owner));
        });
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'merchant-ops-bench-api-'));
        try {
          const pgliteDir = path.join(dir, 'pglite');
          const migrating = createDb({ pgliteDir });
          await migrateToLatest(migrating);
          await migrating.destroy();
          // PGlite is single-user: the bench reads it only once the API has stopped.
          let reader: Knex | undefined;
          try {
            results.push(
              await phase('pglite', client, options, { ...temporalEnv, DATABASE_URL: '', PGLITE_DIR: pgliteDir }, async () => (reader = createDb({ pgliteDir }))),
            );
          } finally {
            await reader?.destroy();
          }
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await env.teardown();
  }
  console.log('\nsummary');
  for (const { db, raw, api } of results) {
    const ratio = throughput(options.starts, api) / throughput(options.starts, raw);
    console.log(`  ${db.padEnd(8)} raw ${describe(options.starts, raw)} | api ${describe(options.starts, api)} | api/raw ${ratio.toFixed(2)} (goal ≥ 0.8)`);
  }
}

/**
 * One database: the warm-ups, the two paths in turns, then the proof. `rowsAfterStop` gives a connection to the
 * API's database once the API has stopped; `live` is one open all along (PostgreSQL), for the
 * server's CPU.
 */
async function phase(db: string, client: Client, options: Options, apiEnv: Record<string, string>, rowsAfterStop: () => Promise<Knex>, live?: Knex): Promise<PhaseResult> {
  console.log(`\n== the API on ${db}`);
  const config = loadConfig({});
  const auth = { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  const merchants = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${db}-${String(i).padStart(6, '0')}`);
  const apiWarm = merchants('m-apiw', options.warmup);
  const apiTimed = merchants('m-api', options.starts);
  const rawWarm = merchants('m-raww', options.warmup);
  const rawTimed = merchants('m-raw', options.starts);
  // Made before anything is timed: a client holds its token and body ready.
  const requestsOf = (ids: string[]) =>
    Promise.all(ids.map(async (merchantId) => {
      const claims = { sub: `u-${merchantId}`, role: 'merchant' as const, merchantId };
      return { token: await signToken(auth, claims, maxTokenLifetimeSeconds('merchant', config)), body: individualRequest(merchantId) };
    }));
  const [apiWarmRequests, apiRequests] = [await requestsOf(apiWarm), await requestsOf(apiTimed)];

  const api = await startApiProcess({
    ...apiEnv,
    TEMPORAL_TASK_QUEUE: API_QUEUE(db),
    // Every request comes from one address here; in production they come from many. The
    // per-token limit (API_RATE_LIMIT_PER_MINUTE) stays as it is: each merchant sends one.
    API_ADDRESS_RATE_LIMIT_PER_MINUTE: '100000000',
  }, options.profile);
  // A fresh set of kept-alive connections for each run of API calls: the API closes one left
  // idle for 5 s (Node's keepAliveTimeout), as while the raw path has its turn, and a request
  // sent on it as it closes would fail.
  let agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const apiLoad = (n: number, one: (i: number) => Promise<void>) => {
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
    return load(n, options.concurrency, one);
  };
  let result: PhaseResult;
  try {
    const cpu = await cpuParts(api, live);
    const rawStart = (merchantId: string) => startRaw(client, RAW_QUEUE(db), merchantId);
    const apiStart = async (i: number, requests: typeof apiRequests) => {
      const answer = await postJson(agent, `${api.url}/v1/verifications`, requests[i]!.token, requests[i]!.body);
      if (answer.status !== 202) throw new Error(`POST /v1/verifications: ${answer.status} ${answer.body}`);
    };
    await load(options.warmup, options.concurrency, (i) => rawStart(rawWarm[i]!));
    await apiLoad(options.warmup, (i) => apiStart(i, apiWarmRequests));

    // The two paths take turns, a slice of each at a time: whatever else the machine does
    // meanwhile, and the server holding more runs as it goes, falls on both alike.
    const raw: Timed = { ms: 0, latencies: [] };
    const viaApi: Timed = { ms: 0, latencies: [] };
    const rawCpu = new CpuTotals();
    const apiCpu = new CpuTotals();
    const slice = Math.ceil(options.starts / options.rounds);
    for (let from = 0; from < options.starts; from += slice) {
      const n = Math.min(slice, options.starts - from);
      let before = cpuSnapshot(cpu);
      add(raw, await load(n, options.concurrency, (i) => rawStart(rawTimed[from + i]!)));
      rawCpu.add(before, cpuSnapshot(cpu));
      before = cpuSnapshot(cpu);
      add(viaApi, await apiLoad(n, (i) => apiStart(from + i, apiRequests)));
      apiCpu.add(before, cpuSnapshot(cpu));
    }
    console.log(`(raw) client.workflow.start: ${describe(options.starts, raw)}`);
    console.log(`      CPU: ${describeCpu(rawCpu.before, rawCpu.after, raw.ms)}; ${rawCpu.perStart(options.starts)}`);
    console.log(`(api) POST /v1/verifications: ${describe(options.starts, viaApi)}`);
    console.log(`      CPU: ${describeCpu(apiCpu.before, apiCpu.after, viaApi.ms)}; ${apiCpu.perStart(options.starts)}`);
    console.log(`api/raw throughput ${(throughput(options.starts, viaApi) / throughput(options.starts, raw)).toFixed(2)} (goal ≥ 0.8)`);
    result = { db, raw, api: viaApi };
  } finally {
    agent.destroy();
    await api.close();
  }
  await prove(client, await rowsAfterStop(), db, options.starts + options.warmup);
  return result;
}

/** The start the API makes (activities/process-start.ts), with nothing around it. */
async function startRaw(client: Client, taskQueue: string, merchantId: string): Promise<void> {
  const caseId = newCaseId();
  const input: VerificationInput = {
    caseId,
    merchantId,
    entityType: 'individual',
    submittedAt: new Date().toISOString(),
    submittedBy: actorOf({ sub: `u-${merchantId}`, role: 'merchant', merchantId }),
  };
  await client.workflow.start(verificationProcess.workflowType, {
    workflowId: verificationWorkflowId(merchantId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: MERCHANT_ID, value: merchantId },
      { key: PROCESS_TYPE, value: verificationProcess.processType },
      { key: BUSINESS_STATUS, value: 'in_review' },
      { key: OVERDUE, value: false },
    ],
    staticSummary: processSummary(verificationProcess.processType, { merchant: merchantId, case: caseId }),
  });
}

function add(total: Timed, part: Timed): void {
  total.ms += part.ms;
  total.latencies.push(...part.latencies);
}

/** CPU seconds summed over the slices of one path, as describeCpu's before and after. */
class CpuTotals {
  before: CpuSnapshot | undefined = {};
  after: CpuSnapshot | undefined = {};

  add(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): void {
    if (!before || !after || !this.after) {
      this.before = this.after = undefined;
      return;
    }
    for (const label of Object.keys(after)) this.after[label] = (this.after[label] ?? 0) + after[label]! - (before[label] ?? 0);
  }

  /** "API 6.3 ms, Temporal server 7.1 ms, … a start". */
  perStart(n: number): string {
    if (!this.after) return '';
    return `${Object.entries(this.after).map(([label, s]) => `${label} ${((s / n) * 1000).toFixed(1)} ms`).join(', ')} a start`;
  }
}

/** n calls of `one`, `concurrency` in flight at a time; each call's latency and the whole wall time. */
async function load(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<Timed> {
  const latencies = new Array<number>(n);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) {
        const at = performance.now();
        await one(i);
        latencies[i] = performance.now() - at;
      }
    }),
  );
  return { ms: performance.now() - started, latencies };
}

const throughput = (n: number, t: Timed) => n / (t.ms / 1000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? NaN;
}

function describe(n: number, t: Timed): string {
  const sorted = [...t.latencies].sort((a, b) => a - b);
  return `${throughput(n, t).toFixed(0)} starts/s (${(t.ms / 1000).toFixed(2)} s), p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms`;
}

/** The processes sharing the cores: the API, the Temporal server, PostgreSQL (when local and in use). */
async function cpuParts(api: ApiProcess, live?: Knex): Promise<CpuParts> {
  const roots: Record<string, number> = {};
  if (api.process.pid !== undefined) roots.API = api.process.pid;
  const temporal = temporalServerPid();
  if (temporal !== undefined) roots['Temporal server'] = temporal;
  // The whole server's CPU: other clients' queries too, when the server is shared.
  if (live) {
    const backend = (await live.raw('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
    const postmaster = postmasterOf(backend.pid);
    if (postmaster !== undefined) roots.postgres = postmaster;
  }
  return { roots, self: 'bench clients' };
}

/**
 * Every API start (timed and warm-up) left what the API leaves: its case with the run id, its
 * submission, its merchant, an `attempted` and a `succeeded` audit row; every start of both paths
 * has its run on the server (counted by task queue), and a sample of cases names runs that exist.
 */
async function prove(client: Client, rows: Knex, db: string, expected: number): Promise<void> {
  const count = async (query: Knex.QueryBuilder) => Number(((await query.count({ n: '*' })) as Array<{ n: string | number }>)[0]!.n);
  const like = `m-api%-${db}-%`;
  const cases = await count(rows('verification_cases').whereLike('merchant_id', like).whereNotNull('run_id'));
  const submissions = await count(rows('verification_submissions as s').join('verification_cases as c', 'c.id', 's.case_id').whereLike('c.merchant_id', like));
  const merchantRows = await count(rows('merchants').whereLike('id', like));
  const attempted = await count(rows('audit_log').where({ actor_role: 'merchant', outcome: 'attempted' }).whereLike('actor_sub', `u-${like}`));
  const succeeded = await count(rows('audit_log').where({ action: 'verification.start', outcome: 'succeeded', status_code: 202 }).whereLike('actor_sub', `u-${like}`));
  const apiRuns = await visibleRuns(client, API_QUEUE(db), expected);
  const rawRuns = await visibleRuns(client, RAW_QUEUE(db), expected);
  const sample = (await rows('verification_cases').whereLike('merchant_id', like).orderByRaw('random()').limit(20).select('workflow_id', 'run_id')) as Array<{ workflow_id: string; run_id: string }>;
  let described = 0;
  for (const c of sample) {
    const run = await client.workflow.getHandle(c.workflow_id, c.run_id).describe();
    if (run.status.name === 'RUNNING' && run.type === verificationProcess.workflowType && run.taskQueue === API_QUEUE(db)) described += 1;
  }
  const ok = [cases, submissions, merchantRows, attempted, succeeded, apiRuns, rawRuns].every((n) => n === expected) && described === sample.length;
  console.log(
    `proof (${expected} a path, warm-up included): cases with run id ${cases}, submissions ${submissions}, merchants ${merchantRows}, audit attempted ${attempted} / succeeded ${succeeded}; runs on the server: api ${apiRuns}, raw ${rawRuns}; sample of ${sample.length} cases described running: ${described} — ${ok ? 'all there' : 'MISSING'}`,
  );
  if (!ok) process.exitCode = 1;
}

/** Runs on a task queue as visibility counts them; it lags the starts a little, so asked until it stops growing. */
async function visibleRuns(client: Client, taskQueue: string, expected: number): Promise<number> {
  let seen = -1;
  for (const giveUpAt = Date.now() + 30_000; Date.now() < giveUpAt; await new Promise((r) => setTimeout(r, 500))) {
    seen = (await client.workflow.count(`TaskQueue = "${taskQueue}"`)).count;
    if (seen >= expected) break;
  }
  return seen;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
