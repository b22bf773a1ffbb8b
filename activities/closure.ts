import type { Db } from '../db/connection';
import { createLedger, type Entry } from '../db/repositories/ledger';
import { payOutOnce } from './payouts';
import { liftOwnRestrictions } from './restrictions';
import { createDepositAccountRepository } from '../db/repositories/deposit-accounts';
import { createShopRepository } from '../db/repositories/shops';
import { createViolationRepository } from '../db/repositories/violations';
import { closureWaitUntil, collectOwed } from '../domain/deposit';
import type { DepositPolicy } from '../domain/deposit-policy';
import type { PlatformClient } from '../platform/types';
import type { DepositAccountKind } from '../workflows/deposit-account.defs';
import type { ClosureBlockers, ClosureStatus } from '../workflows/shop-closure.defs';

/**
 * The final commission settlement of a closing shop's merchant, as of the closure's time
 * (activities/settlement.ts createFinalSettlement): what was paid out and what is owed.
 */
export type FinalSettlement = (input: { shopId: string; merchantId: string; closureId: string; asOf: string }) => Promise<{
  owedFen: number;
  period: string;
  payoutFen: number;
}>;

export interface ClosureActivityDeps {
  db: Db;
  platform: PlatformClient;
  policy: DepositPolicy;
  finalSettlement: FinalSettlement;
}

const HELD_REASON = 'no confirmed payment stands behind this balance: held until finance decides where it goes';

// Closure stops new business at once; its restrictions are its own, apart from the ladder's.
const CLOSURE_RESTRICTIONS = ['stop_listing', 'stop_sales'] as const;

/** What a closure's collection took from each deposit and what it left owed. */
function owedCollected(entries: readonly Entry[], details: Record<string, unknown>) {
  const taken = (account: DepositAccountKind) => -(entries.find((e) => e.account === account)?.amountFen ?? 0);
  // Collections posted before owed amounts were kept apart took from the deposit only and left nothing owed.
  const stillOwedFen = typeof details.stillOwedFen === 'number' ? details.stillOwedFen : 0;
  return { deductedFen: taken('deposit'), fromPromotionFen: taken('promotion_deposit'), stillOwedFen };
}

export function createClosureActivities({ db, platform, policy, finalSettlement }: ClosureActivityDeps) {
  const ledger = createLedger(db);
  const shops = createShopRepository(db);
  const accounts = createDepositAccountRepository(db);
  const cases = createViolationRepository(db);

  return {
    async suspendShopForClosure(input: { closureId: string; shopId: string; merchantId: string }) {
      await platform.setRestrictions(
        input.shopId,
        { action: 'apply', restrictions: [...CLOSURE_RESTRICTIONS], reason: 'shop closure requested' },
        `closure:${input.closureId}:suspend`,
      );
      await shops.applyRestrictions(input.shopId, [...CLOSURE_RESTRICTIONS], 'closure', new Date());
      await shops.setStatus(input.shopId, 'closing');
    },

    /** As of the workflow's time, so the answer is the same whenever the activity runs. */
    async closureBlockers(input: { shopId: string; asOf: string }): Promise<ClosureBlockers> {
      const [{ orders }, openViolations] = await Promise.all([platform.shopOrders(input.shopId), cases.undecidedCountOf(input.shopId)]);
      const wait = closureWaitUntil(policy, orders, new Date(input.asOf));
      return { openOrders: wait.blockedByOpenOrders, openViolations, afterSalesUntil: wait.waitUntil };
    },

    async recordClosureStatus(input: { closureId: string; status: ClosureStatus; details: Record<string, unknown> }) {
      await shops.updateClosure(input.closureId, { status: input.status, details: input.details });
    },

    async cancelClosure(input: { closureId: string; shopId: string; merchantId: string; actor: string }) {
      await liftOwnRestrictions(shops, platform, {
        shopId: input.shopId,
        source: 'closure',
        idempotencyKey: `closure:${input.closureId}:cancel`,
        reason: 'shop closure cancelled',
      });
      await shops.setStatus(input.shopId, 'open');
      await shops.updateClosure(input.closureId, { cancelledAt: new Date(), details: { cancelledBy: input.actor } });
      await platform.notify(
        { recipient: 'merchant', merchantId: input.merchantId, template: 'shop_closure_cancelled', data: { shopId: input.shopId } },
        `closure:${input.closureId}:cancelled`,
      );
    },

    /** `asOf` is absent only in closures started before it was passed: they settle as of now. */
    async finalSettlement(input: { closureId: string; shopId: string; merchantId: string; asOf?: string }) {
      return finalSettlement({ ...input, asOf: input.asOf ?? new Date().toISOString() });
    },

    /**
     * What the shop owes before anything is refunded (docs/rules.md §2): the final
     * statement's debt plus what was already owed (fines above the deposit), taken from the
     * main deposit, then the promotion deposit; the rest stays owed in the ledger's
     * receivable under the closure's key. One transaction, once per closure.
     */
    async deductOwed(input: { closureId: string; shopId: string; owedFen: number }) {
      const key = `closure:${input.closureId}:owed`;
      return db.transaction(async (tx) => {
        const existing = await ledger.findByKey(key, tx);
        if (existing) return owedCollected(existing.entries, existing.details);
        const balances = await ledger.balances(input.shopId, tx);
        const alreadyOwedFen = Math.max(0, -balances.receivable);
        const debtFen = Math.max(0, input.owedFen);
        const c = collectOwed({ depositFen: balances.deposit, promotionFen: balances.promotion_deposit, owedFen: debtFen + alreadyOwedFen });
        const entries: Entry[] = [
          { account: 'deposit', amountFen: -c.fromDepositFen },
          { account: 'promotion_deposit', amountFen: -c.fromPromotionFen },
          // The new debt is the platform's income; the receivable moves to what is still owed.
          { account: 'platform_income', amountFen: debtFen },
          { account: 'receivable', amountFen: alreadyOwedFen - c.stillOwedFen },
        ].filter((e) => e.amountFen !== 0) as Entry[];
        const details = { closureId: input.closureId, debtFen, alreadyOwedFen, stillOwedFen: c.stillOwedFen };
        if (entries.length > 0) {
          await ledger.post({ idempotencyKey: key, shopId: input.shopId, kind: 'deduction', reason: 'owed at shop closure', actor: 'system', entries, details }, tx);
        }
        return owedCollected(entries, details);
      });
    },

    /**
     * Refunds both deposits, exactly once: the amount is fixed by the first ledger
     * posting under the closure's key, and the platform pays under that same key.
     */
    async refundDeposits(input: { closureId: string; shopId: string }) {
      const paid = async (account: DepositAccountKind) => {
        const payout = { shopId: input.shopId, account, key: `closure:${input.closureId}:refund:${account}`, reason: 'shop closed: deposit refunded', actor: 'system' };
        const result = await payOutOnce({ db, ledger, platform }, payout, async () => ({ amountFen: await ledger.balance(input.shopId, account) }));
        return 'amountFen' in result ? result.amountFen : 0;
      };
      const refunded = { deposit: await paid('deposit'), promotionDeposit: await paid('promotion_deposit') };
      // Refunds go only to payments; what no confirmed payment stands behind (credited before
      // payments were checked) stays in the deposit. It is recorded on the closure, never left silently.
      const left = await ledger.balances(input.shopId);
      const heldFen = { deposit: left.deposit, promotionDeposit: left.promotion_deposit };
      if (heldFen.deposit > 0 || heldFen.promotionDeposit > 0) {
        await shops.updateClosure(input.closureId, { details: { held: { ...heldFen, reason: HELD_REASON } } });
      }
      return { ...refunded, heldFen };
    },

    async completeClosure(input: { closureId: string; shopId: string; merchantId: string }) {
      await shops.setStatus(input.shopId, 'closed');
      await accounts.markClosed(input.shopId);
      await shops.updateClosure(input.closureId, { status: 'closed', closedAt: new Date() });
      await platform.notify(
        { recipient: 'merchant', merchantId: input.merchantId, template: 'shop_closed', data: { shopId: input.shopId } },
        `closure:${input.closureId}:closed`,
      );
    },
  };
}

export type ClosureActivities = ReturnType<typeof createClosureActivities>;
