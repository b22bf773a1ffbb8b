import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createEnforcementActivities, RECORDINGS_IN_FLIGHT } from '../activities/enforcement';
import { createOrderImportActivities } from '../activities/order-import';
import { withBenchDatabase } from './database';
import { createEnforcementRepository } from '../db/repositories/enforcement';
import { MAX_REFUND_PAGE_SIZE, orderRefundKey } from '../domain/enforcement';
import { createPlatformClient } from '../platform/client';
import { feedOrdersOf, seedEnforcedShop } from '../test/support/enforcement';
import { paidRefunds, putOnFeed, startSandboxProcess, type SandboxProcess } from './sandbox-process';
// Also installs a Temporal runtime that logs warnings only.
import { temporalCliPath } from '../test/support/temporal';
import { ensureSearchAttributes } from '../worker/search-attributes';
import type { OrderImportResult } from '../workflows/order-import.defs';
import { approveEnforcementUpdate, ENFORCEMENT_WORKFLOW_TYPE, enforcementWorkflowId, type EnforcementResult } from '../workflows/enforcement-action.defs';

/**
 * `npm run bench:refunds [-- --orders 100000 --recordings 2]` (`--recordings`: pages the process records side by side)
 *
 * Seeds one shop with N orders in a fresh database on DATABASE_URL's server (every fiftieth
 * already refunded by its consumer, so the action has N × 49/50 to refund). Each timed part gets
 * a fresh sandbox platform in a process of its own (the platform is another machine in
 * production; in the bench's process its request handling would share one thread with the
 * worker), with the orders put on its feed over HTTP beforehand, untimed. It times:
 *   (a) the bare loop: the shop's open orders read in one query, refunded in batch calls of
 *       1,000 with a key per order, nothing recorded;
 *   (c) the same loop with each page's answers recorded by the statement the process uses
 *       (the refund rows written), in one transaction rolled back: the
 *       floor of the work itself, without Temporal;
 *   (b) the enforcement process: the enforcementAction workflow on a local Temporal dev server
 *       with a real worker, from its start through approval, the withdrawal restriction, every
 *       refund page recorded, to its result.
 * It prints all three, b/a (the goal is ≤ 1.5), b/c and the proof: refunds the platform paid, by key and
 * per order, equal the orders to refund; after (b), untimed, the order import brings the refunds the
 * platform appended to its feed into `orders` (the one writer of orders), and no order of the shop is left open.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { orders: { type: 'string', default: '100000' }, recordings: { type: 'string', default: String(RECORDINGS_IN_FLIGHT) } } });
  const orders = Number(values.orders);
  const recordingsInFlight = Number(values.recordings);
  await withBenchDatabase(async (db) => {
    const shop = { shopId: 'shop-bench', merchantId: 'm-bench' };
    let started = performance.now();
    await seedEnforcedShop(db, shop, orders);
    await db.raw('ANALYZE orders');
    const feed = await feedOrdersOf(db, shop.shopId);
    const toRefund = feed.filter((o) => o.status !== 'refunded').length;
    console.log(`seeded ${orders} orders of one shop (${toRefund} to refund) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const sandboxes: SandboxProcess[] = [];
    const fresh = async () => {
      const sandbox = await startSandboxProcess();
      sandboxes.push(sandbox);
      await putOnFeed(sandbox, feed);
      return sandbox;
    };
    try {
      const bare = await fresh();
      started = performance.now();
      await bareLoop(db, bare, shop.shopId);
      const bareMs = performance.now() - started;
      console.log(`(a) bare loop of batch refund calls (1,000 a call, a key per order): ${(bareMs / 1000).toFixed(2)} s, ${await prove(bare, shop.shopId, toRefund)}`);
      await bare.close();
      const recordedFloor = await fresh();
      started = performance.now();
      await bareLoop(db, recordedFloor, shop.shopId, true);
      const floorMs = performance.now() - started;
      console.log(`(c) the same loop, each page's answers recorded as the process records them (rolled back): ${(floorMs / 1000).toFixed(2)} s`);
      await recordedFloor.close();
      const full = await fresh();

      // The rolled-back floor left dead rows behind: cleared, so (b) starts from the data (a) saw.
      await db.raw('VACUUM ANALYZE orders');
      await db.raw('VACUUM ANALYZE enforcement_refunds');
      const { ms: fullMs, result } = await enforcement(db, full, shop, recordingsInFlight);
      console.log(`(b) enforcement process through Temporal, ${recordingsInFlight} page(s) recorded side by side: ${(fullMs / 1000).toFixed(2)} s (${result.refunded} refunded, ${result.refused} refused), ${await prove(full, shop.shopId, toRefund)}`);
      const recorded = Number((await db('enforcement_refunds').where({ state: 'refunded' }).count({ n: '*' }))[0]!.n);
      started = performance.now();
      const imported: OrderImportResult = await new MockActivityEnvironment().run(
        createOrderImportActivities({ db, platform: createPlatformClient({ baseUrl: full.url, token: 'bench', timeoutMs: 60_000 }) }).importOrders,
        {},
      );
      const importMs = performance.now() - started;
      const stillOpen = Number((await db('orders').where({ shop_id: shop.shopId }).whereNot({ status: 'refunded' }).count({ n: '*' }))[0]!.n);
      console.log(`    recorded refunded: ${recorded}; then the order import (untimed above): ${imported.events} feed events, ${imported.updated} orders updated in ${(importMs / 1000).toFixed(2)} s; orders of the shop not refunded: ${stillOpen}`);
      console.log(`ratio b/a = ${(fullMs / bareMs).toFixed(2)} (goal ≤ 1.5); b/c = ${(fullMs / floorMs).toFixed(2)} (what the process adds to the platform calls and the recording)`);
      if (recorded !== toRefund || stillOpen !== 0) process.exitCode = 1;
    } finally {
      for (const sandbox of sandboxes) await sandbox.close();
    }
  });
}

/**
 * The proof line, from the sandbox's own records (read over HTTP): what the platform paid, one
 * refund per idempotency key it kept, and per order, against the orders to refund.
 */
async function prove(sandbox: SandboxProcess, shopId: string, toRefund: number): Promise<string> {
  const paid = await paidRefunds(sandbox, shopId);
  const byOrder = new Map<string, number>();
  for (const refund of paid) byOrder.set(refund.orderId, (byOrder.get(refund.orderId) ?? 0) + 1);
  const once = [...byOrder.values()].every((n) => n === 1);
  const ok = paid.length === toRefund && byOrder.size === toRefund && once;
  if (!ok) process.exitCode = 1;
  return `platform paid ${paid.length} refunds for ${byOrder.size} orders, each once: ${once}; orders to refund ${toRefund}: ${ok ? 'equal' : 'NOT EQUAL'}`;
}

async function bareLoop(db: Knex, sandbox: SandboxProcess, shopId: string, record = false): Promise<void> {
  const platform = createPlatformClient({ baseUrl: sandbox.url, token: 'bench', timeoutMs: 60_000 });
  const open = (await db('orders').where({ shop_id: shopId }).whereNot({ status: 'refunded' }).orderBy('id').select('id', 'amount_fen')) as Array<{ id: string; amount_fen: number }>;
  const loop = async (trx: Knex) => {
    for (let i = 0; i < open.length; i += MAX_REFUND_PAGE_SIZE) {
      const page = open.slice(i, i + MAX_REFUND_PAGE_SIZE);
      const answer = await platform.orderRefundBatch(page.map((o) => ({ idempotencyKey: orderRefundKey(o.id), orderId: o.id, shopId, amountFen: Number(o.amount_fen), reason: 'enforcement refund' })));
      if (record) {
        const amountOf = new Map(page.map((o) => [o.id, Number(o.amount_fen)]));
        await createEnforcementRepository(trx).recordPage(
          'enf_bench_floor',
          1,
          answer.refunds.map((a) => {
            const amountFen = amountOf.get(a.orderId)!;
            return a.outcome === 'refunded' ? { orderId: a.orderId, amountFen, outcome: 'refunded' as const, platformRefundId: a.refundId, refundedAt: a.refundedAt } : { orderId: a.orderId, amountFen, outcome: 'refused' as const, reasonCode: a.reason };
          }),
        );
      }
    }
  };
  if (!record) return loop(db);
  await db
    .transaction(async (trx) => {
      await loop(trx);
      throw new RolledBack();
    })
    .catch((err: unknown) => {
      if (!(err instanceof RolledBack)) throw err;
    });
}

class RolledBack extends Error {}

async function enforcement(db: Knex, sandbox: SandboxProcess, shop: { shopId: string; merchantId: string }, recordingsInFlight: number): Promise<{ ms: number; result: EnforcementResult }> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
  });
  try {
    await ensureSearchAttributes(env.connection, 'default');
    const platform = createPlatformClient({ baseUrl: sandbox.url, token: 'bench', timeoutMs: 60_000 });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'bench',
      workflowsPath: require.resolve('../workflows'),
      activities: createEnforcementActivities({ db, platform, recordingsInFlight }),
    });
    const actionId = 'enf_00000000000000000bench01';
    await createEnforcementRepository(db).insertAction({ id: actionId, shop_id: shop.shopId, merchant_id: shop.merchantId, reason: 'forged_brand_authorisation', evidence: 'bench', opened_by: 'olga', workflow_id: enforcementWorkflowId(actionId) });
    const client = new Client({ connection: env.connection });
    const started = performance.now();
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start(ENFORCEMENT_WORKFLOW_TYPE, {
        workflowId: enforcementWorkflowId(actionId),
        taskQueue: 'bench',
        args: [{ actionId, shopId: shop.shopId, merchantId: shop.merchantId, openedBy: 'olga', pageSize: MAX_REFUND_PAGE_SIZE }],
      });
      await handle.executeUpdate(approveEnforcementUpdate, { args: [{ by: 'pan' }] });
      return (await handle.result()) as EnforcementResult;
    });
    return { ms: performance.now() - started, result };
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
