import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { withBenchDatabase } from './database';
import { createStatementRepository } from '../db/repositories/settlement/statements';
import { DEFAULT_SETTLEMENT_THRESHOLDS } from '../domain/settlement';
import { startSandboxPlatform } from '../platform/sandbox';
import { seedOrders } from '../scripts/seed-orders';
// Also installs a Temporal runtime that logs warnings only.
import { temporalCliPath } from '../test/support/temporal';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { activityDepsFrom, createActivities } from '../worker/dependencies';
import { SETTLEMENT_WORKFLOW_TYPE, settlementWorkflowId, type SettlementResult } from '../workflows/settlement.defs';

/**
 * `npm run bench:settlement [-- --orders 1000000 --merchants 10000]`
 *
 * Seeds N orders in a fresh database on DATABASE_URL's server, then on the same data:
 *   (a) the bare SQL floor: the set-based statements insert plus marking the orders
 *       settled, for all merchants at once, in a transaction that is rolled back;
 *   (b) the full settlement through Temporal: the monthlySettlement workflow on a local
 *       Temporal dev server with a real worker, ranges, heartbeats and payouts through the
 *       sandbox platform's payment API.
 * It prints both and the ratio b/a (the goal is ≤ 1.5 at 1M orders).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '1000000' },
      merchants: { type: 'string', default: '10000' },
      period: { type: 'string', default: '2026-10' },
    },
  });
  const orders = Number(values.orders);
  const merchants = Number(values.merchants);
  const period = values.period!;
  await withBenchDatabase(async (db, databaseUrl) => {
    const seeded = await seedOrders(db, { orders, merchants, period });
    await db.raw('ANALYZE orders');
    console.log(`seeded ${seeded.inserted} orders over ${merchants} merchants in ${(seeded.ms / 1000).toFixed(1)} s`);

    const floorMs = await sqlFloor(db, period);
    console.log(`(a) SQL floor: statements insert + orders marked, all merchants at once: ${(floorMs / 1000).toFixed(2)} s`);

    const { ms: fullMs, result } = await fullSettlement(db, databaseUrl, period);
    console.log(`(b) full settlement through Temporal: ${(fullMs / 1000).toFixed(2)} s (${result.statements} statements, ${result.payouts} payouts)`);
    console.log(`ratio b/a = ${(fullMs / floorMs).toFixed(2)} (goal ≤ 1.5)`);
  });
}

async function sqlFloor(db: Knex, period: string): Promise<number> {
  const started = performance.now();
  await db
    .transaction(async (trx) => {
      await createStatementRepository(trx).settleMerchantRange(period, '', null, DEFAULT_SETTLEMENT_THRESHOLDS);
      throw new RolledBack();
    })
    .catch((err: unknown) => {
      if (!(err instanceof RolledBack)) throw err;
    });
  return performance.now() - started;
}

class RolledBack extends Error {}

async function fullSettlement(db: Knex, databaseUrl: string, period: string): Promise<{ ms: number; result: SettlementResult }> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
  });
  const sandbox = await startSandboxPlatform({ port: 0, token: 'bench' });
  try {
    await ensureSearchAttributes(env.connection, 'default');
    const config = loadConfig({ DATABASE_URL: databaseUrl, PLATFORM_BASE_URL: sandbox.url, PLATFORM_API_TOKEN: 'bench', LOG_LEVEL: 'warn' });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'bench',
      workflowsPath: require.resolve('../workflows'),
      activities: createActivities(activityDepsFrom(config, db)),
    });
    const client = new Client({ connection: env.connection });
    const started = performance.now();
    const result = await worker.runUntil(
      client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId: settlementWorkflowId(period), taskQueue: 'bench', args: [{ period }] }) as Promise<SettlementResult>,
    );
    return { ms: performance.now() - started, result };
  } finally {
    await sandbox.close();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
