import type { Db } from '../db/connection';
import { createLedger, type Entry } from '../db/repositories/ledger';
import { createShopRepository } from '../db/repositories/shops';
import { createViolationRepository } from '../db/repositories/violations';
import { closureWaitUntil } from '../domain/deposit';
import type { DepositPolicy } from '../domain/deposit-policy';
import type { PlatformClient } from '../platform/types';
import type { ClosureBlockers } from '../workflows/shop-closure.defs';
import { THIRD_PARTY_PROMOTION_OFF } from '../workflows/promotion-closure.defs';
import { payOutOnce } from './payouts';

export interface PromotionClosureActivityDeps {
  db: Db;
  platform: PlatformClient;
  policy: DepositPolicy;
}

export function createPromotionClosureActivities({ db, platform, policy }: PromotionClosureActivityDeps) {
  const ledger = createLedger(db);
  const shops = createShopRepository(db);
  const cases = createViolationRepository(db);
  const balances = async (shopId: string) => {
    const all = await ledger.balances(shopId);
    return { balanceFen: all.deposit, promotionBalanceFen: all.promotion_deposit, owedFen: Math.max(0, -all.receivable) };
  };

  return {
    /** Off on the platform at once, under its own source so nothing else lifts it. */
    async switchOffThirdPartyPromotion(input: { requestId: string; shopId: string }) {
      await platform.setRestrictions(
        input.shopId,
        { action: 'apply', restrictions: [THIRD_PARTY_PROMOTION_OFF], reason: 'third-party promotion closed at the merchant\'s request' },
        `promotion-closure:${input.requestId}:switch-off`,
      );
      await shops.applyRestrictions(input.shopId, [THIRD_PARTY_PROMOTION_OFF], 'promotion-closure', new Date());
    },

    /** The shop-exit conditions, as of the workflow's time (the same as a shop closure's). */
    async promotionClosureBlockers(input: { shopId: string; asOf: string }): Promise<ClosureBlockers> {
      const [{ orders }, openViolations] = await Promise.all([platform.shopOrders(input.shopId), cases.undecidedCountOf(input.shopId)]);
      const wait = closureWaitUntil(policy, orders, new Date(input.asOf));
      return { openOrders: wait.blockedByOpenOrders, openViolations, afterSalesUntil: wait.waitUntil };
    },

    /**
     * What the merchant owes (fines above the deposit, debts left by a statement) comes out
     * of the promotion deposit before the refund; once per request.
     */
    async collectOwedFromPromotion(input: { requestId: string; shopId: string }) {
      const key = `promotion-closure:${input.requestId}:owed`;
      return db.transaction(async (tx) => {
        const existing = await ledger.findByKey(key, tx);
        const owedNow = async () => Math.max(0, -(await ledger.balance(input.shopId, 'receivable', tx)));
        if (existing) {
          return { deductedFen: existing.entries.find((e) => e.account === 'receivable')?.amountFen ?? 0, stillOwedFen: await owedNow() };
        }
        const owed = await owedNow();
        const taken = Math.min(owed, Math.max(0, await ledger.balance(input.shopId, 'promotion_deposit', tx)));
        if (taken > 0) {
          const entries: Entry[] = [
            { account: 'promotion_deposit', amountFen: -taken },
            { account: 'receivable', amountFen: taken },
          ];
          await ledger.post({ idempotencyKey: key, shopId: input.shopId, kind: 'deduction', reason: 'owed, taken at promotion closure', actor: 'system', entries }, tx);
        }
        return { deductedFen: taken, stillOwedFen: owed - taken };
      });
    },

    /** The rest of the promotion deposit, back to the payments it came from, exactly once. */
    async refundPromotionDeposit(input: { requestId: string; shopId: string; actor: string }) {
      const payout = { shopId: input.shopId, account: 'promotion_deposit' as const, key: `promotion-closure:${input.shopId}:${input.requestId}`, reason: 'third-party promotion closed', actor: input.actor };
      const result = await payOutOnce({ db, ledger, platform }, payout, async () => ({ amountFen: await ledger.balance(input.shopId, 'promotion_deposit') }));
      return { refundedFen: 'amountFen' in result ? result.amountFen : 0, balances: await balances(input.shopId) };
    },
  };
}

export type PromotionClosureActivities = ReturnType<typeof createPromotionClosureActivities>;
