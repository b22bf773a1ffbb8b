import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { withBenchDatabase } from './database';
import { cpuSnapshot, describeCpu, postmasterOf, temporalServerPid, type CpuParts } from './cpu';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { productColumns } from '../activities/catalogue-sync';
import { loadConfig } from '../config/config';
import { createCatalogueRepository } from '../db/repositories/catalogue';
import type { PartnerProduct } from '../platform/partners/types';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { CATALOGUE_CATEGORIES, generateProducts, mutate } from '../platform/sandbox';
// Also installs a Temporal runtime that logs warnings only.
import { temporalCliPath } from '../test/support/temporal';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { activityDepsFrom, createActivities } from '../worker/dependencies';
import { DEPOSIT_WORKFLOW_TYPE, depositWorkflowId } from '../workflows/deposit-account.defs';
import { CATALOGUE_SYNC_WORKFLOW_TYPE, catalogueSyncWorkflowId, type CatalogueSyncResult } from '../workflows/catalogue-sync.defs';

/**
 * `npm run bench:sync [-- --products 1000000 --stores 1000 --price-change 0.01 --banned 0.001]`
 *
 * Generates the stores' catalogues (the sandbox's seeded generator), binds every store to its own
 * shop and syncs them once through Temporal (the initial load, printed for information). Then
 * the partners change 1% of the prices and put a banned word in 0.1% of the products, and on
 * that same data (the generator is seeded: the bench makes the same products the sandbox
 * serves):
 *   (a) the bare SQL floor: each store's products upserted page by page (1,000 a statement) and
 *       diffed by content hash, nothing else, in a transaction that is rolled back;
 *   (b) the full round through Temporal: a catalogueSync base run on a local dev server with a
 *       real worker: the partners read over HTTP from the sandbox, checks, changed listings sent
 *       to the platform, and each store's risk scan (price observations, gaps held, banned-word
 *       cases opened through the violation process).
 * It prints both and the ratio b/a (the goal is ≤ 2.0).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '1000000' },
      stores: { type: 'string', default: '1000' },
      'price-change': { type: 'string', default: '0.01' },
      banned: { type: 'string', default: '0.001' },
    },
  });
  const stores = Number(values.stores);
  const perStore = Math.ceil(Number(values.products) / stores);
  // The partners are another system: the sandbox runs in its own process, as they would on
  // their own machines, so serving a million products is not charged to the round.
  const sandbox = await startSandboxProcess();
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
  });
  try {
    await withBenchDatabase((db, databaseUrl) => syncRounds(db, databaseUrl, sandbox, env, { stores, perStore, priceChange: Number(values['price-change']), banned: Number(values.banned) }));
  } finally {
    await env.teardown();
    sandbox.process.kill('SIGTERM');
  }
}

interface RoundOptions {
  stores: number;
  perStore: number;
  priceChange: number;
  banned: number;
}

async function syncRounds(db: Knex, databaseUrl: string, sandbox: SandboxProcess, env: TestWorkflowEnvironment, { stores, perStore, priceChange, banned }: RoundOptions): Promise<void> {
  const storeIds = Array.from({ length: stores }, (_, i) => `tb-bench-${String(i).padStart(5, '0')}`);
  await seedBoundStores(db, sandbox, storeIds);
  let generated = performance.now();
  await generateAtPartners(sandbox.url, storeIds, perStore);
  console.log(`generated ${stores * perStore} products over ${stores} stores in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

  await ensureSearchAttributes(env.connection, 'default');
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PLATFORM_BASE_URL: sandbox.url,
    PLATFORM_API_TOKEN: 'bench',
    PARTNER_BASE_URL: `${sandbox.url}/partners`,
    LOG_LEVEL: 'warn',
  });
  const client = new Client({ connection: env.connection });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'bench',
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(activityDepsFrom(config, db, client)),
    maxConcurrentActivityTaskExecutions: 20,
  });
  // One worker for both rounds (a worker runs once); the violation cases the second round
  // opens go on being processed by it after the round is timed.
  const running = worker.run();
  const round = async (key: string) => {
    const started = performance.now();
    const result = (await client.workflow.execute(CATALOGUE_SYNC_WORKFLOW_TYPE, {
      workflowId: catalogueSyncWorkflowId(`base:${key}`),
      taskQueue: 'bench',
      args: [{ kind: 'base', startedBy: 'bench' }],
    })) as CatalogueSyncResult;
    const ms = performance.now() - started;
    const history = await client.workflow.getHandle(catalogueSyncWorkflowId(`base:${key}`)).fetchHistory();
    return { ms, result, events: history.events?.length ?? 0 };
  };

  // Every open shop has its deposit process (opened at approval): the cases the round opens take
  // their fines through it. Started before the initial load, so they have settled by the timed round.
  await startDepositProcesses(client, storeIds.length);
  const initial = await round('initial');
  console.log(`initial load through Temporal: ${(initial.ms / 1000).toFixed(1)} s (${initial.result.storesDone} stores, ${initial.events} history events)`);

  generated = performance.now();
  const change = { priceChangeRate: priceChange, priceChangePercent: 30, bannedWordRate: banned };
  await generateAtPartners(sandbox.url, storeIds, perStore, change);
  const changed = storeIds.map((storeId, i) => mutate(generateProducts({ storeId, count: perStore, seed: i + 1 }), { seed: 1_000 + i, ...change }));
  console.log(`changed the catalogues (${priceChange} prices, ${banned} banned words) in ${((performance.now() - generated) / 1000).toFixed(1)} s`);
  await settle(db);

  const cpu = await cpuParts(db, sandbox);
  const beforeFloor = cpuSnapshot(cpu);
  const floorMs = await sqlFloor(db, storeIds, changed);
  console.log(`(a) SQL floor: upsert and diff by content hash, page by page: ${(floorMs / 1000).toFixed(2)} s`);
  console.log(`    CPU during the floor: ${describeCpu(beforeFloor, cpuSnapshot(cpu), floorMs)}`);

  await settle(db);
  const casesBefore = await countCases(db);
  const beforeRound = cpuSnapshot(cpu);
  const full = await round('changed');
  const afterRound = cpuSnapshot(cpu);
  const cases = (await countCases(db)) - casesBefore;
  const held = await db('catalogue_products').where({ listing_status: 'held' }).count({ n: '*' }).first();
  console.log(
    `(b) full round through Temporal: ${(full.ms / 1000).toFixed(2)} s (${full.result.storesDone} stores, ${full.events} history events; ${cases} cases opened; ${Number(held?.n ?? 0)} listings held; failures ${JSON.stringify(full.result.failedByClass ?? {})})`,
  );
  console.log(`    CPU during the round: ${describeCpu(beforeRound, afterRound, full.ms)}`);
  console.log(`ratio b/a = ${(full.ms / floorMs).toFixed(2)} (goal ≤ 2.0)`);
  console.log(`activity time by type in the round's last run (it continues as new every few batches): ${await activityTimes(client, catalogueSyncWorkflowId('base:changed'))}`);
  // The round ends once its cases are opened; their penalties go on after it. Wait for them, so
  // the worker stops with nothing in flight.
  const settledAt = performance.now();
  const penalised = await casesPenalised(db, casesBefore + cases);
  console.log(`penalties applied to ${penalised} of ${cases} new cases ${((performance.now() - settledAt) / 1000).toFixed(1)} s after the round`);
  worker.shutdown();
  await running;
}

/** The processes that share the machine's cores with the timed parts: the Temporal server, the sandbox, PostgreSQL when local. */
async function cpuParts(db: Knex, sandbox: SandboxProcess): Promise<CpuParts> {
  const roots: Record<string, number> = {};
  const backend = (await db.raw('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
  const postmaster = postmasterOf(backend.pid);
  if (postmaster !== undefined) roots.postgres = postmaster;
  const temporal = temporalServerPid();
  if (temporal !== undefined) roots['Temporal server'] = temporal;
  if (sandbox.process.pid !== undefined) roots['partner sandbox'] = sandbox.process.pid;
  return { roots };
}

/** The bench shops' deposit processes, as approval starts them; 50 starts at a time. */
async function startDepositProcesses(client: Client, shops: number): Promise<void> {
  for (let from = 0; from < shops; from += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, shops - from) }, (_, k) => {
        const i = from + k;
        const shopId = `shop-m-bench-${i}`;
        return client.workflow.start(DEPOSIT_WORKFLOW_TYPE, { workflowId: depositWorkflowId(shopId), taskQueue: 'bench', args: [{ shopId, merchantId: `m-bench-${i}`, shopType: 'enterprise' }] });
      }),
    );
  }
}

interface SandboxProcess {
  url: string;
  process: ChildProcess;
}

/** `npm run start:sandbox` on a free port, with the config's default app (the partners know it). */
async function startSandboxProcess(): Promise<SandboxProcess> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(process.execPath, ['--import', 'tsx', require.resolve('../platform/sandbox/main.ts')], {
    env: { ...process.env, SANDBOX_PORT: String(port), PLATFORM_API_TOKEN: 'bench', LOG_LEVEL: 'warn', SANDBOX_STATE_FILE: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (const giveUpAt = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return { url, process: child };
    if (Date.now() > giveUpAt || child.exitCode !== null) throw new Error('the sandbox did not start');
  }
}

/** Each store's catalogue made at the partners by the seeded generator; `then` is a later round of changes. */
async function generateAtPartners(url: string, storeIds: string[], count: number, then?: { priceChangeRate: number; priceChangePercent: number; bannedWordRate: number }): Promise<void> {
  await Promise.all(
    [0, 1, 2, 3].map(async (lane) => {
      for (let i = lane; i < storeIds.length; i += 4) {
        const body = { count, seed: i + 1, ...(then ? { then: { seed: 1_000 + i, ...then } } : {}) };
        const answer = await fetch(`${url}/partners/_stores/taobao/${storeIds[i]}/products/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!answer.ok) throw new Error(`generate ${storeIds[i]}: ${answer.status} ${await answer.text()}`);
      }
    }),
  );
}

/** One verified merchant, its open shop and a bound Taobao store each, and the category mappings. */
async function seedBoundStores(db: Knex, sandbox: SandboxProcess, storeIds: string[]): Promise<void> {
  const rows = storeIds.map((storeId, i) => ({ storeId, merchantId: `m-bench-${i}`, shopId: `shop-m-bench-${i}` }));
  for (let i = 0; i < rows.length; i += 500) {
    const page = rows.slice(i, i + 500);
    await db('merchants').insert(page.map((r) => ({ id: r.merchantId, entity_type: 'enterprise', legal_name: `Bench ${r.merchantId}`, verification_status: 'verified' })));
    await db('shops').insert(page.map((r) => ({ id: r.shopId, merchant_id: r.merchantId, shop_type: 'flagship', status: 'open', opened_by_case_id: `case-${r.merchantId}` })));
    await db('store_bindings').insert(
      page.map((r) => ({
        id: `bnd-${r.storeId}`,
        merchant_id: r.merchantId,
        shop_id: r.shopId,
        platform: 'taobao',
        store_id: r.storeId,
        status: 'bound',
        workflow_id: `binding:taobao:${r.storeId}`,
        requested_by: 'bench',
        sync_enabled: true,
      })),
    );
  }
  for (const { storeId } of rows) {
    const answer = await fetch(`${sandbox.url}/partners/_stores/taobao/${storeId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ storeName: storeId, entity: { kind: 'enterprise', name: 'Bench', uscc: '91330100MA2H3X4Y5Z' }, taobaokeOpen: true }),
    });
    if (!answer.ok) throw new Error(`sandbox store ${storeId}: ${answer.status}`);
  }
  const mappings = createCatalogueRepository(db);
  for (const [category, attributes] of Object.entries(CATALOGUE_CATEGORIES)) {
    const special = category === 'beauty' || category === 'food' || category === 'cosmetics' ? category : 'none';
    await mappings.addMappingVersion({ partner_platform: 'taobao', partner_category: category, ks_category: `ks-${category}`, required_attributes: [...attributes], special_class: special, changed_by: 'bench' });
  }
}

/** The floor: the same products, upserted where their content hash differs, one statement per 1,000. */
async function sqlFloor(db: Knex, storeIds: string[], catalogues: readonly PartnerProduct[][]): Promise<number> {
  const started = performance.now();
  await db
    .transaction(async (trx) => {
      for (const [i, products] of catalogues.entries()) {
        const bindingId = `bnd-${storeIds[i]}`;
        for (let from = 0; from < products.length; from += 1_000) {
          const rows = products.slice(from, from + 1_000).map(productColumns);
          await trx.raw(FLOOR_STATEMENT, { rows: JSON.stringify(rows), bindingId, merchantId: `m-bench-${i}`, shopId: `shop-m-bench-${i}`, storeId: storeIds[i]! });
        }
      }
      throw new RolledBack();
    })
    .catch((err: unknown) => {
      if (!(err instanceof RolledBack)) throw err;
    });
  return performance.now() - started;
}

const FLOOR_STATEMENT = `
INSERT INTO catalogue_products AS c (binding_id, product_id, merchant_id, shop_id, platform, store_id, title, description, category,
  price_fen, channel_price_fen, inventory, presale, presale_label, promo_tags, attributes, images, quality_report, filing_number,
  detail_url, partner_updated_at, content_hash)
SELECT :bindingId, x.product_id, :merchantId, :shopId, 'taobao', :storeId, x.title, x.description, x.category,
  x.price_fen, x.channel_price_fen, x.inventory, x.presale, x.presale_label, x.promo_tags, x.attributes, x.images, x.quality_report,
  x.filing_number, x.detail_url, x.partner_updated_at, x.content_hash
FROM jsonb_to_recordset(:rows::jsonb) AS x(product_id text, title text, description text, category text, price_fen bigint,
  channel_price_fen bigint, inventory integer, presale boolean, presale_label text, promo_tags jsonb, attributes jsonb, images jsonb,
  quality_report text, filing_number text, detail_url text, partner_updated_at timestamptz, content_hash text)
ON CONFLICT (binding_id, product_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
  price_fen = EXCLUDED.price_fen, channel_price_fen = EXCLUDED.channel_price_fen, content_hash = EXCLUDED.content_hash, changed_at = now()
WHERE c.content_hash IS DISTINCT FROM EXCLUDED.content_hash`;

class RolledBack extends Error {}

/**
 * Before each timed part: the initial load's dead rows vacuumed and its dirty pages written, so
 * neither part pays for the database's catching up on what came before it (the floor, measured
 * first, used to vary from 28 to 60 s at 1M). CHECKPOINT needs a superuser: skipped otherwise.
 */
async function settle(db: Knex): Promise<void> {
  await db.raw('VACUUM (ANALYZE)');
  await db.raw('CHECKPOINT').catch(() => undefined);
}

/** Seconds spent in each activity type of a run (scheduled to completed), from its history. */
async function activityTimes(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const totals = new Map<string, number>();
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: ms(e.eventTime) });
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const s = scheduled.get(String(done.scheduledEventId));
      if (s) totals.set(s.type, (totals.get(s.type) ?? 0) + ms(e.eventTime) - s.at);
    }
  }
  return [...totals].map(([type, t]) => `${type} ${(t / 1000).toFixed(2)} s`).join(', ');
}

/** Waits (up to 10 minutes) until every case has applied its penalty; answers how many have. */
async function casesPenalised(db: Knex, cases: number): Promise<number> {
  for (const giveUpAt = Date.now() + 600_000; ; await new Promise((r) => setTimeout(r, 500))) {
    const row = await db('violation_events').where({ type: 'penalty_applied' }).count({ n: '*' }).first();
    const n = Number(row?.n ?? 0);
    if (n >= cases || Date.now() > giveUpAt) return n;
  }
}

async function countCases(db: Knex): Promise<number> {
  const row = await db('violation_cases').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
