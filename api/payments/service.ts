import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createPaymentRepository, OfflineTopUpExistsError, type OfflineTopUp } from '../../db/repositories/payments';
import { createShopRepository } from '../../db/repositories/shops';
import { samePerson } from '../../domain/payments';
import { depositStateQuery, depositWorkflowId, offlinePaymentId, topUpUpdate } from '../../workflows/deposit-account.defs';
import { assertMayActFor, type Principal } from '../auth';
import { conflict, forbidden, notFound } from '../errors';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate } from '../process-seam';
import type { OfflineTopUpBody } from './schemas';

export interface PaymentServiceDeps {
  db: Knex;
  temporal: Client;
  /** How long a credit may hold its request before the answer is a 202 with the deposit's state. */
  updateWaitMs?: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function offlineView(t: OfflineTopUp) {
  return {
    offlineTopUpId: t.id,
    shopId: t.shopId,
    account: t.account,
    amountFen: t.amountFen,
    payerAccount: t.payerAccount,
    transferReference: t.transferReference,
    status: t.status,
    recordedBy: t.recordedBy,
    recordedAt: new Date(t.recordedAt).toISOString(),
    approvedBy: t.approvedBy,
    approvedAt: iso(t.approvedAt),
    paymentId: offlinePaymentId(t.id),
  };
}

/**
 * Payments into deposits that do not start at the merchant's top-up: the platform's signed
 * callback, and offline transfers finance records and a second person approves. Both credit
 * through the shop's deposit process, on the same path (and key) as a top-up.
 */
export function createPaymentService({ db, temporal, updateWaitMs = DEFAULT_UPDATE_WAIT_MS }: PaymentServiceDeps) {
  const payments = createPaymentRepository(db);
  const shops = createShopRepository(db);

  async function loadShop(shopId: string, principal?: Principal) {
    const shop = await shops.find(shopId);
    if (!shop) throw notFound(`shop ${shopId} does not exist`);
    if (principal) assertMayActFor(principal, shop.merchant_id);
    return shop;
  }

  // Bounded like every update: a credit whose step keeps retrying (the platform down) answers
  // 202 with the deposit's state instead of holding the platform's callback or the approver.
  const credit = (shopId: string, paymentId: string, actor: string) =>
    runUpdate(temporal.workflow.getHandle(depositWorkflowId(shopId)), {
      update: topUpUpdate,
      args: [{ paymentId, actor }],
      stateQuery: depositStateQuery,
      waitMs: updateWaitMs,
      what: `the credit of payment ${paymentId} to shop ${shopId}`,
      whenEnded: `shop ${shopId} has no running process`,
    });

  return {
    /** A confirmed payment the platform told us about is credited as a top-up of it would be. */
    async paymentConfirmed(shopId: string, paymentId: string) {
      await loadShop(shopId);
      const result = await credit(shopId, paymentId, 'platform:payment-callback');
      return { paymentId, credited: true, transactionId: result.transactionId, replayed: result.replayed, creditedFen: result.creditedFen };
    },

    async recordOffline(shopId: string, body: OfflineTopUpBody, principal: Principal) {
      await loadShop(shopId, principal);
      try {
        const recorded = await payments.recordOffline({
          id: `off_${randomBytes(12).toString('hex')}`,
          shopId,
          ...body,
          recordedBy: principal.sub,
          recordedAt: new Date(),
        });
        return offlineView(recorded);
      } catch (err) {
        if (err instanceof OfflineTopUpExistsError) throw conflict(`transfer ${body.transferReference} is already recorded`, { offlineTopUpId: err.existingId });
        throw err;
      }
    },

    async listOffline(shopId: string, principal: Principal) {
      await loadShop(shopId, principal);
      return { offlineTopUps: (await payments.offlineOf(shopId)).map(offlineView) };
    },

    /**
     * Maker and checker: whoever recorded the transfer cannot approve it. Approved, it is
     * credited once; approving again (say the answer was lost) replays that credit.
     */
    async approveOffline(shopId: string, offlineTopUpId: string, principal: Principal) {
      await loadShop(shopId, principal);
      const found = await payments.findOffline(offlineTopUpId);
      if (!found || found.shopId !== shopId) throw notFound(`shop ${shopId} has no offline top-up ${offlineTopUpId}`);
      if (samePerson(found.recordedBy, principal.sub)) throw forbidden('an offline top-up needs a second person: whoever recorded it cannot approve it');
      if (found.status === 'pending_approval') {
        const approved = await payments.approveOffline(offlineTopUpId, principal.sub, new Date());
        if (!approved) throw conflict(`offline top-up ${offlineTopUpId} changed meanwhile; read it again`);
      }
      const result = await credit(shopId, offlinePaymentId(offlineTopUpId), `${principal.role}:${principal.sub}`);
      const now = (await payments.findOffline(offlineTopUpId))!;
      return {
        offlineTopUp: offlineView(now),
        transactionId: result.transactionId,
        replayed: result.replayed,
        creditedFen: result.creditedFen,
        balanceFen: result.balanceFen,
        promotionBalanceFen: result.promotionBalanceFen,
      };
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
