import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { ClosureConflictError, createShopRepository } from '../db/repositories/shops';
import { ClosureAlreadyActive, ProcessAlreadyRunning, ShopAlreadyClosed } from '../domain/errors';
import { closureStateQuery, closureWorkflowId, shopClosureProcess } from '../workflows/shop-closure.defs';
import { startProcess } from './process-start';

/*
 * Starting a shop closure, in one place for its two callers: the API (a merchant or ops asks)
 * and the violation activity (a permanent ban). It lives in activities/ because it is a side
 * effect (a row, a workflow start) that the worker already owns and the API may import; it
 * cannot live in workflows/, whose code runs in the deterministic sandbox. Refusals are domain
 * errors (domain/errors.ts): the API maps them to 409, the activity decides for itself.
 */

export interface ClosureStartDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
}

export interface ClosureRequest {
  shopId: string;
  /** Who asked, as recorded on the closure row and in the process (`<role>:<sub>`). */
  requestedBy: string;
  /** The violation case whose ban starts this closure (its process only). */
  penaltyCaseId?: string;
}

export interface StartedClosure {
  closureId: string;
  workflowId: string;
  status: 'requested';
}

/**
 * A closure process answers a cancellation just before it ends, so a request right after
 * one may meet it still running. Once its own state says cancelled or closed it has only
 * its last workflow task left: wait briefly for it to end. False for a live closure.
 */
async function previousClosureEnded(temporal: Client, workflowId: string): Promise<boolean> {
  const handle = temporal.workflow.getHandle(workflowId);
  const state = await handle.query(closureStateQuery).catch(() => undefined);
  if (state?.status !== 'cancelled' && state?.status !== 'closed') return false;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if ((await handle.describe()).status.name !== 'RUNNING') return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Records a closure and starts its process, through startProcess (record first, then the
 * start). Throws `ShopAlreadyClosed` or `ClosureAlreadyActive`; any other failure is the
 * caller's to retry (a failed start leaves its row cancelled, docs/rules.md §2, so the unique
 * index does not block the next request).
 */
export async function requestShopClosure({ db, temporal, taskQueue }: ClosureStartDeps, request: ClosureRequest): Promise<StartedClosure> {
  const { shopId, requestedBy, penaltyCaseId } = request;
  const shops = createShopRepository(db);
  const shop = await shops.find(shopId);
  if (!shop) throw new Error(`shop ${shopId} does not exist`);
  if (shop.status === 'closed') throw new ShopAlreadyClosed(`shop ${shopId} is already closed`);
  const closureId = `cl_${randomBytes(12).toString('hex')}`;
  const workflowId = closureWorkflowId(shopId);
  try {
    await startProcess(temporal, {
      process: shopClosureProcess,
      workflowId,
      taskQueue,
      input: { closureId, shopId, merchantId: shop.merchant_id, requestedBy, ...(penaltyCaseId ? { penaltyCaseId } : {}) },
      conflictPolicy: 'FAIL',
      reusePolicy: 'ALLOW_DUPLICATE',
      searchAttributes: { merchantId: shop.merchant_id, status: 'waiting' },
      about: { merchant: shop.merchant_id, shop: shopId, case: closureId, ...(penaltyCaseId ? { note: `penalty of case ${penaltyCaseId}` } : {}) },
      finishing: () => previousClosureEnded(temporal, workflowId),
      record: {
        db,
        what: 'the closure',
        // The row's unique index allows one active closure per shop.
        async write(trx) {
          try {
            await createShopRepository(trx).createClosure({
              id: closureId,
              shopId,
              workflowId,
              status: 'requested',
              requestedBy,
              requestedAt: new Date(),
              details: penaltyCaseId ? { penaltyCaseId } : {},
            });
          } catch (err) {
            if (err instanceof ClosureConflictError) throw new ClosureAlreadyActive(`shop ${shopId} already has a closure in progress`, err.activeClosureId);
            throw err;
          }
        },
        async undo(undoDb) {
          await createShopRepository(undoDb).updateClosure(closureId, {
            status: 'cancelled',
            cancelledAt: new Date(),
            details: { error: 'the closure process could not start' },
          });
        },
      },
    });
  } catch (err) {
    if (err instanceof ProcessAlreadyRunning) throw new ClosureAlreadyActive(`shop ${shopId} already has a closure in progress`);
    throw err;
  }
  return { closureId, workflowId, status: 'requested' };
}
