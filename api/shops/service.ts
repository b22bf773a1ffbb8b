import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Knex } from 'knex';
import { createLedger } from '../../db/repositories/ledger';
import { createDepositAccountRepository } from '../../db/repositories/deposit-accounts';
import { createShopRepository, type ShopClosure } from '../../db/repositories/shops';
import { requestShopClosure } from '../../activities/shop-closure-start';
import { shortfallFen } from '../../domain/deposit';
import { ProcessAlreadyRunning } from '../../domain/errors';
import {
  deductUpdate,
  depositStateQuery,
  depositWorkflowId,
  topUpUpdate,
  withdrawPromotionExcessUpdate,
  type PromotionOutcome,
} from '../../workflows/deposit-account.defs';
import {
  promotionClosureProcess,
  promotionClosureStateQuery,
  promotionClosureWorkflowId,
} from '../../workflows/promotion-closure.defs';
import { cancelClosureUpdate, closureStateQuery, closureWorkflowId } from '../../workflows/shop-closure.defs';
import { mayActFor, type Principal } from '../auth';
import { conflict, domainErrorAsHttp, notFound } from '../errors';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate, startProcess } from '../process-seam';
import type { DeductionBody, TopUpBody } from './schemas';
import { createShopListing } from './list';

export interface ShopServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  /** How long an update may take before the route answers 202 with the process's state. */
  updateWaitMs?: number;
}

const actorOf = (p: Principal) => `${p.role}:${p.sub}`;
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function closureView({ id, shopId, status, requestedBy, requestedAt, closedAt, cancelledAt, details }: ShopClosure) {
  return { closureId: id, shopId, status, requestedBy, requestedAt: new Date(requestedAt).toISOString(), closedAt: iso(closedAt), cancelledAt: iso(cancelledAt), details };
}

/** Deposits, promotion deposits and shop closure, between HTTP and the shop's processes. */
export function createShopService({ db, temporal, taskQueue, updateWaitMs = DEFAULT_UPDATE_WAIT_MS }: ShopServiceDeps) {
  const onDeposit = <R, A extends [unknown]>(shopId: string, update: UpdateDefinition<R, A>, args: A, what: string) =>
    runUpdate(depositHandle(shopId), {
      update,
      args,
      stateQuery: depositStateQuery,
      waitMs: updateWaitMs,
      what: `${what} of shop ${shopId}`,
      whenEnded: `shop ${shopId} has no running process`,
    });
  const ledger = createLedger(db);
  const shops = createShopRepository(db);
  const accounts = createDepositAccountRepository(db);

  async function loadShop(shopId: string, principal: Principal) {
    const shop = await shops.find(shopId);
    // Another merchant's shop is answered as a missing one: shop ids cannot be enumerated.
    if (!shop || !mayActFor(principal, shop.merchant_id)) throw notFound(`shop ${shopId} does not exist`);
    return shop;
  }
  const depositHandle = (shopId: string) => temporal.workflow.getHandle(depositWorkflowId(shopId));
  const promotion = async (shopId: string, principal: Principal, run: () => Promise<PromotionOutcome>) => {
    await loadShop(shopId, principal);
    const outcome = await run();
    if (!outcome.done) throw conflict(`refused: ${outcome.reasons.join('; ')}`, { reasons: outcome.reasons });
    return outcome;
  };

  return {
    /** One page of the shops the caller may see, with where each deposit stands. */
    list: createShopListing(db),

    async deposit(shopId: string, principal: Principal) {
      const shop = await loadShop(shopId, principal);
      const [balances, account, restrictions, episodes, lines] = await Promise.all([
        ledger.balances(shopId),
        accounts.find(shopId),
        shops.restrictionsOf(shopId),
        accounts.episodes(shopId),
        ledger.recentLines(shopId, 20),
      ]);
      const open = episodes.find((e) => e.endedAt === null) ?? null;
      return {
        shopId,
        merchantId: shop.merchant_id,
        shopStatus: shop.status,
        balanceFen: balances.deposit,
        promotionBalanceFen: balances.promotion_deposit,
        // The receivable is negative while owed; shown as the positive amount owed.
        owedFen: Math.max(0, -balances.receivable),
        requirement: account
          ? { requiredFen: account.requiredFen, parts: account.parts, assessedForMonth: account.assessedForMonth, assessedAt: iso(account.assessedAt) }
          : null,
        shortfallFen: account ? shortfallFen(balances.deposit, account.requiredFen, Math.max(0, -balances.receivable)) : 0,
        restrictions: restrictions.map((r) => ({ restriction: r.restriction, source: r.source, since: new Date(r.since).toISOString() })),
        openEpisode: open
          ? { id: open.id, startedAt: new Date(open.startedAt).toISOString(), schedule: open.schedule, steps: open.steps.map((s) => ({ step: s.step, at: new Date(s.at).toISOString() })) }
          : null,
        recentLines: lines.map((l) => ({
          transactionId: l.transactionId,
          kind: l.kind,
          reason: l.reason,
          actor: l.actor,
          createdAt: new Date(l.createdAt).toISOString(),
          entries: l.entries,
        })),
      };
    },

    /** Credits a payment the platform confirmed; the deposit process asks the platform itself. */
    async topUp(shopId: string, body: TopUpBody, principal: Principal) {
      await loadShop(shopId, principal);
      return onDeposit(shopId, topUpUpdate, [{ ...body, actor: actorOf(principal) }], 'the top-up');
    },

    async deduct(shopId: string, body: DeductionBody, principal: Principal) {
      await loadShop(shopId, principal);
      return onDeposit(shopId, deductUpdate, [{ ...body, actor: actorOf(principal) }], 'the deduction');
    },

    /**
     * Closing third-party promotion is a process: the function goes off at once, the refund
     * waits for the shop-exit conditions. Answered as soon as it started (202); its state is
     * read at GET …/promotion/closure. One per shop: asked again, it is a 409.
     */
    async closePromotion(shopId: string, principal: Principal) {
      const shop = await loadShop(shopId, principal);
      if (shop.status !== 'open') throw conflict(`shop ${shopId} is ${shop.status}: its closure refunds the promotion deposit`);
      const deposit = await depositHandle(shopId).query(depositStateQuery).catch(() => undefined);
      if (deposit?.promotionClosed) throw conflict(`third-party promotion of shop ${shopId} is already closed`);
      const requestId = `pc_${randomBytes(12).toString('hex')}`;
      const workflowId = promotionClosureWorkflowId(shopId);
      try {
        // No row of its own: the process records what it does through the ledger.
        await startProcess(temporal, {
          process: promotionClosureProcess,
          workflowId,
          taskQueue,
          input: { requestId, shopId, merchantId: shop.merchant_id, requestedBy: actorOf(principal) },
          conflictPolicy: 'FAIL',
          // Closed stays closed; only a process that failed may be asked for again.
          reusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          searchAttributes: { merchantId: shop.merchant_id, status: 'switching_off' },
          about: { merchant: shop.merchant_id, shop: shopId },
        });
      } catch (err) {
        if (err instanceof ProcessAlreadyRunning) throw conflict(`third-party promotion of shop ${shopId} is already closing or closed`);
        throw err;
      }
      return { requestId, workflowId, status: 'requested' as const };
    },

    async promotionClosure(shopId: string, principal: Principal) {
      await loadShop(shopId, principal);
      const state = await temporal.workflow.getHandle(promotionClosureWorkflowId(shopId)).query(promotionClosureStateQuery).catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
      if (!state) throw notFound(`shop ${shopId} has never asked to close third-party promotion`);
      return state;
    },

    withdrawPromotionExcess: (shopId: string, principal: Principal) =>
      promotion(shopId, principal, () => onDeposit(shopId, withdrawPromotionExcessUpdate, [{ actor: actorOf(principal) }], 'the excess withdrawal')),

    /**
     * A merchant's or ops' request; a ban starts its closure below the API
     * (activities/shop-closure-start.ts). Its refusals are domain errors, answered as api/errors.ts maps them (409).
     */
    async requestClosure(shopId: string, principal: Principal) {
      await loadShop(shopId, principal);
      return requestShopClosure({ db, temporal, taskQueue }, { shopId, requestedBy: actorOf(principal) }).catch((err: unknown) => {
        throw domainErrorAsHttp(err) ?? err;
      });
    },

    async cancelClosure(shopId: string, principal: Principal) {
      await loadShop(shopId, principal);
      return runUpdate(temporal.workflow.getHandle(closureWorkflowId(shopId)), {
        update: cancelClosureUpdate,
        args: [{ actor: actorOf(principal) }],
        stateQuery: closureStateQuery,
        waitMs: updateWaitMs,
        what: `the cancellation of shop ${shopId}'s closure`,
        whenEnded: `shop ${shopId}'s closure has no running process`,
      });
    },

    async closure(shopId: string, principal: Principal) {
      await loadShop(shopId, principal);
      const latest = await shops.latestClosureOf(shopId);
      if (!latest) throw notFound(`shop ${shopId} has never asked to close`);
      return closureView(latest);
    },
  };
}

export type ShopService = ReturnType<typeof createShopService>;
