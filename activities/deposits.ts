import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import { keepHeartbeating } from './heartbeat';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { createLedger, deduction, deductionOwing, InsufficientBalanceError, LedgerKeyConflictError, proceedsTransfer, reversal, settlingOwed, topUp, type Entry } from '../db/repositories/ledger';
import { payOutOnce } from './payouts';
import { liftOwnRestrictions } from './restrictions';
import { createDepositAccountRepository } from '../db/repositories/deposit-accounts';
import { createPaymentRepository } from '../db/repositories/payments';
import { createShopRepository } from '../db/repositories/shops';
import { createViolationRepository } from '../db/repositories/violations';
import { creditDecision, type ReportedPayment } from '../domain/payments';
import { excessPromotionWithdrawal, formatCny, ladderSchedule, lastNaturalMonth, requiredDeposit } from '../domain/deposit';
import type { DepositPolicy, LadderStep, Restriction } from '../domain/deposit-policy';
import { ErrorType } from '../domain/errors';
import type { EntityType } from '../domain/verification';
import type { PlatformClient } from '../platform/types';
import {
  depositWorkflowId,
  OFFLINE_PAYMENT_PREFIX,
  requirementChangedSignal,
  type DepositAccountKind,
  type PromotionOutcome,
  type TopUpResult,
} from '../workflows/deposit-account.defs';

export interface DepositActivityDeps {
  db: Db;
  platform: PlatformClient;
  policy: DepositPolicy;
  /** Signals deposit processes after a re-assessment; absent where none run. */
  temporal?: Client;
}

const REASSESSMENT_PAGE = 200;

/** Turns ledger refusals into failures Temporal will not retry. */
async function refusalsAreFinal<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InsufficientBalanceError) throw ApplicationFailure.nonRetryable(err.message, ErrorType.InsufficientBalance);
    if (err instanceof LedgerKeyConflictError) throw ApplicationFailure.nonRetryable(err.message, ErrorType.LedgerKeyConflict);
    throw err;
  }
}

export function createDepositActivities({ db, platform, policy, temporal }: DepositActivityDeps) {
  const ledger = createLedger(db);
  const accounts = createDepositAccountRepository(db);
  const shops = createShopRepository(db);
  const cases = createViolationRepository(db);
  const payments = createPaymentRepository(db);

  // owedFen: what the merchant owes beyond its deposits (the receivable, negated).
  const balances = async (shopId: string) => {
    const all = await ledger.balances(shopId);
    return { balanceFen: all.deposit, promotionBalanceFen: all.promotion_deposit, owedFen: Math.max(0, -all.receivable) };
  };
  /** Read inside the movement's transaction, so what is owed is settled against what it is then. */
  const owedIn = async (tx: Db, shopId: string) => Math.max(0, -(await ledger.balance(shopId, 'receivable', tx)));

  /**
   * A payment as its source reports it: the platform's payment API, or an offline transfer
   * finance recorded, which counts as confirmed only once a second person approved it.
   */
  const reportedPayment = async (paymentId: string): Promise<(ReportedPayment & { source: 'platform' | 'offline_transfer' }) | null> => {
    if (paymentId.startsWith(OFFLINE_PAYMENT_PREFIX)) {
      const offline = await payments.findOffline(paymentId.slice(OFFLINE_PAYMENT_PREFIX.length));
      if (!offline) return null;
      const status = offline.status === 'approved' ? 'confirmed' : 'pending';
      return { paymentId, shopId: offline.shopId, account: offline.account, amountFen: offline.amountFen, payerAccount: offline.payerAccount, status, source: 'offline_transfer' };
    }
    const payment = await platform.payment(paymentId);
    if (!payment) return null;
    // Once credited, what it credited stands (our own refunds show on the platform too): a
    // repeat replays that credit, never a smaller one that would conflict with it.
    const credited = await payments.find(paymentId);
    return { ...payment, refundedFen: credited ? payment.amountFen - credited.amountFen : payment.refundedFen, source: 'platform' };
  };

  /** The requirement of one shop for a month, from its categories and that month's sales. */
  const assess = async (shopId: string, shopType: EntityType, month: string) => {
    const [categories, sales] = await Promise.all([shops.categoriesOf(shopId), platform.monthlySales(shopId, month)]);
    const open = categories.filter((c) => c.status === 'open').map((c) => c.category);
    return requiredDeposit(policy, { shopType, specialCategories: open, lastMonthGmvFen: sales.gmvFen });
  };


  /**
   * The mirror of a deduction. What the deduction left owed and the merchant has paid since
   * comes back to the deposit, not as a credit on the receivable (which never goes above zero).
   */
  const reversalOf = async (original: Entry[], shopId: string): Promise<Entry[]> => {
    const mirrored = reversal(original.map((e) => ({ account: e.account, amountFen: e.amountFen })));
    const owedBack = mirrored.find((e) => e.account === 'receivable');
    if (!owedBack) return mirrored;
    const stillOwed = -(await ledger.balance(shopId, 'receivable'));
    const cancelled = Math.min(owedBack.amountFen, stillOwed);
    const toDeposit = owedBack.amountFen - cancelled;
    const rest = mirrored.filter((e) => e !== owedBack);
    const deposit = rest.find((e) => e.account === 'deposit');
    const others = rest.filter((e) => e !== deposit);
    const depositFen = (deposit?.amountFen ?? 0) + toDeposit;
    return [...others, ...(depositFen !== 0 ? [{ account: 'deposit' as const, amountFen: depositFen }] : []), ...(cancelled !== 0 ? [{ account: 'receivable' as const, amountFen: cancelled }] : [])];
  };

  return {
    async openDepositAccount(input: { shopId: string; merchantId: string; shopType: EntityType; asOf: string }) {
      await ledger.ensureAccounts(input.shopId);
      const { month } = lastNaturalMonth(new Date(input.asOf));
      const required = await assess(input.shopId, input.shopType, month);
      await accounts.saveRequirement(input.shopId, { requiredFen: required.totalFen, parts: required, month, at: new Date() });
      return { ...(await balances(input.shopId)), requiredFen: required.totalFen };
    },

    async balances(input: { shopId: string }) {
      return balances(input.shopId);
    },

    async postMovement(input: {
      shopId: string;
      kind: 'top_up' | 'deduction';
      account: DepositAccountKind;
      amountFen: number;
      idempotencyKey: string;
      reason: string;
      actor: string;
    }) {
      const entries = input.kind === 'top_up' ? topUp(input.account, input.amountFen) : deduction(input.account, input.amountFen);
      const posted = await refusalsAreFinal(() =>
        ledger.post({ idempotencyKey: input.idempotencyKey, shopId: input.shopId, kind: input.kind, reason: input.reason, actor: input.actor, entries }),
      );
      return { transactionId: posted.transactionId, replayed: posted.replayed, ...(await balances(input.shopId)) };
    },

    /**
     * A fine (or any deduction the caller marks as owed in full): the deposit pays what it
     * holds and the rest is owed, never dropped. Keyed like a deduction, so a reversal finds it.
     */
    async deductOwing(input: { shopId: string; account: DepositAccountKind; amountFen: number; idempotencyKey: string; reason: string; actor: string }) {
      const posted = await refusalsAreFinal(() =>
        db.transaction(async (tx) => {
          const earlier = await ledger.findByKey(input.idempotencyKey, tx);
          if (earlier) return { transactionId: earlier.transactionId, replayed: true };
          // Read under the account's lock: another movement between this read and the post would
          // make the post refuse a split planned on the older balance.
          const held = await ledger.lockedBalance(input.shopId, input.account, tx);
          const entries = deductionOwing(input.account, input.amountFen, held);
          return ledger.post({ idempotencyKey: input.idempotencyKey, shopId: input.shopId, kind: 'deduction', reason: input.reason, actor: input.actor, entries }, tx);
        }),
      );
      return { transactionId: posted.transactionId, replayed: posted.replayed, ...(await balances(input.shopId)) };
    },

    /**
     * Credits a confirmed payment to its shop's deposit, for the confirmed amount, once per
     * payment id (the ledger's key and the payments table's primary key). A pending payment
     * is refused for now (retry later), a failed, unknown or mismatched one for good.
     */
    async creditPayment(input: { shopId: string; paymentId: string; account?: DepositAccountKind; amountFen?: number; actor: string }): Promise<Omit<TopUpResult, 'requiredFen'>> {
      const reported = await reportedPayment(input.paymentId);
      const decision = creditDecision(input, reported);
      if (!decision.credit) throw ApplicationFailure.nonRetryable(decision.message, ErrorType[decision.refusal]);
      const posted = await refusalsAreFinal(() =>
        db.transaction(async (tx) => {
          const key = `topup:${input.shopId}:${input.paymentId}`;
          // Credited before: answer with that credit (what it settled then may differ from now).
          const earlier = await ledger.findByKey(key, tx);
          if (earlier) return { transactionId: earlier.transactionId, replayed: true };
          const result = await ledger.post(
            {
              idempotencyKey: key,
              shopId: input.shopId,
              kind: 'top_up',
              reason: `top-up (payment ${input.paymentId})`,
              actor: input.actor,
              details: { paymentId: input.paymentId },
              // A deposit top-up pays what is owed first (docs/rules.md §2).
              entries: settlingOwed(topUp(decision.account, decision.amountFen), await owedIn(tx, input.shopId)),
            },
            tx,
          );
          await payments.recordCredit(
            { paymentId: input.paymentId, shopId: input.shopId, account: decision.account, source: reported!.source, payerAccount: decision.payerAccount, amountFen: decision.amountFen, ledgerTransactionId: result.transactionId },
            tx,
          );
          return result;
        }),
      );
      return { transactionId: posted.transactionId, replayed: posted.replayed, paymentId: input.paymentId, account: decision.account, creditedFen: decision.amountFen, ...(await balances(input.shopId)) };
    },

    /** Posts the reversal of the deduction keyed `deduction:<shop>:<reference>`, once (its own key). */
    async reverseDeduction(input: { shopId: string; deductionReference: string; reason: string; actor: string }) {
      const original = await ledger.findByKey(`deduction:${input.shopId}:${input.deductionReference}`);
      if (!original) throw ApplicationFailure.nonRetryable(`no deduction ${input.deductionReference} on shop ${input.shopId}`, ErrorType.RecordNotFound);
      const key = `reversal:${input.shopId}:${input.deductionReference}`;
      const earlier = await ledger.findByKey(key);
      if (earlier) return { transactionId: earlier.transactionId, replayed: true, ...(await balances(input.shopId)) };
      const entries = await reversalOf(original.entries, input.shopId);
      const posted = await refusalsAreFinal(() =>
        ledger.post({ idempotencyKey: key, shopId: input.shopId, kind: 'reversal', reason: input.reason, actor: input.actor, entries }),
      );
      return { transactionId: posted.transactionId, replayed: posted.replayed, ...(await balances(input.shopId)) };
    },

    async startEpisode(input: { shopId: string; episodeId: string; startedAt: string; requiredFen: number; balanceFen: number }) {
      const schedule = ladderSchedule(policy, new Date(input.startedAt));
      await accounts.openEpisode({
        id: input.episodeId,
        shopId: input.shopId,
        startedAt: new Date(input.startedAt),
        requiredFen: input.requiredFen,
        balanceAtStartFen: input.balanceFen,
        schedule,
      });
      return { schedule };
    },

    /**
     * One rung of the shortfall ladder; each platform call carries a key of its episode and
     * step. A step that moves money or restricts first re-reads, under the deposit account's
     * row lock, whether the episode is still open and the balance still short: a step that
     * was retrying while a top-up landed does nothing (`skipped`), and a top-up that lands
     * while the platform is being asked waits for the step (at most the platform client's
     * timeout, PLATFORM_TIMEOUT_MS), then ends the episode.
     * `requiredFen` is absent in steps scheduled before it was passed: the recorded
     * requirement stands in.
     */
    async runLadderStep(input: { shopId: string; merchantId: string; episodeId: string; step: LadderStep; shortfallFen: number; requiredFen?: number }) {
      const { shopId, episodeId, step } = input;
      const key = `deposit:${episodeId}:${step}`;
      const details: Record<string, unknown> = { shortfallFen: input.shortfallFen };
      if (step === 'notify') {
        await platform.notify(
          { recipient: 'merchant', merchantId: input.merchantId, template: 'deposit_shortfall', data: { shopId, shortfall: formatCny(input.shortfallFen) } },
          key,
        );
        await accounts.recordStep(episodeId, step, new Date(), details);
        return { ...(await balances(shopId)), skipped: null };
      }
      const requiredFen = input.requiredFen ?? (await accounts.find(shopId))?.requiredFen ?? 0;
      const skipped = await db.transaction(async (tx) => {
        const balanceFen = await ledger.lockedBalance(shopId, 'deposit', tx);
        const accountsInTx = createDepositAccountRepository(tx);
        const shopsInTx = createShopRepository(tx);
        // An earlier attempt of this step moved the proceeds and recorded it (its answer was lost
        // after the commit): done. Asking the platform again under the same key with the
        // shortfall as it is now would be a different request, which the platform refuses.
        if (step === 'transfer_proceeds' && (await ledger.findByKey(key, tx))) return null;
        if (!(await accountsInTx.isEpisodeOpen(episodeId))) return 'episode_ended';
        // What is owed (a fine above the deposit) counts as missing too.
        const shortfall = requiredFen + (await owedIn(tx, shopId)) - balanceFen;
        if (shortfall <= 0) return 'balance_restored';
        if (step === 'transfer_proceeds') {
          // Only what is still missing: a top-up may have covered part of it since the schedule.
          const { transferredFen } = await platform.transferProceeds(shopId, { maxAmountFen: shortfall, purpose: 'deposit top-up' }, key);
          if (transferredFen > 0) {
            // Recorded as a payment from the shop's sales proceeds, so a refund can send it back there.
            if (!(await ledger.findByKey(key, tx))) {
              const entries = settlingOwed(proceedsTransfer(transferredFen), await owedIn(tx, shopId));
              const posted = await ledger.post(
                { idempotencyKey: key, shopId, kind: 'proceeds_transfer', reason: 'shortfall: sales proceeds to deposit', actor: 'system', entries },
                tx,
              );
              await payments.recordCredit(
                { paymentId: `proceeds:${key}`, shopId, account: 'deposit', source: 'sales_proceeds', payerAccount: `sales-proceeds:${shopId}`, amountFen: transferredFen, ledgerTransactionId: posted.transactionId },
                tx,
              );
            }
          }
          details.transferredFen = transferredFen;
        } else {
          const restriction = step as Restriction;
          await platform.setRestrictions(shopId, { action: 'apply', restrictions: [restriction], reason: 'deposit below requirement' }, key);
          await shopsInTx.applyRestrictions(shopId, [restriction], 'deposit', new Date());
        }
        await accountsInTx.recordStep(episodeId, step, new Date(), details);
        return null;
      });
      if (skipped) log.info('ladder step skipped', { shopId, episodeId, step, skipped });
      return { ...(await balances(shopId)), skipped };
    },

    async endEpisode(input: { shopId: string; merchantId: string; episodeId: string; reason: string; balanceFen: number }) {
      const { shopId, episodeId } = input;
      await liftOwnRestrictions(shops, platform, {
        shopId,
        source: 'deposit',
        idempotencyKey: `deposit:${episodeId}:lift`,
        reason: `deposit episode ended: ${input.reason}`,
      });
      await accounts.closeEpisode(episodeId, new Date(), input.reason);
      if (input.reason === 'restored') {
        await platform.notify({ recipient: 'merchant', merchantId: input.merchantId, template: 'deposit_restored', data: { shopId } }, `deposit:${episodeId}:restored`);
      }
    },

    /** [src] closing third-party promotion: the merchant applies and the shop-exit rules are met. */
    async closePromotion(input: { shopId: string; merchantId: string; reference: string; actor: string }): Promise<PromotionOutcome> {
      const { shopId } = input;
      const payout = { shopId, account: 'promotion_deposit' as const, key: `promotion-closure:${shopId}:${input.reference}`, reason: 'third-party promotion closed', actor: input.actor };
      const result = await payOutOnce({ db, ledger, platform }, payout, async () => {
        const [openViolations, { orders }] = await Promise.all([cases.undecidedCountOf(shopId), platform.shopOrders(shopId)]);
        const openOrders = orders.filter((o) => o.status === 'open').length;
        const refused: string[] = [];
        if (openViolations > 0) refused.push(`${openViolations} violation case(s) still open`);
        if (openOrders > 0) refused.push(`${openOrders} order(s) not finished`);
        return refused.length > 0 ? { refused } : { amountFen: (await balances(shopId)).promotionBalanceFen };
      });
      return 'refused' in result ? { done: false, reasons: result.refused } : { done: true, refundedFen: result.amountFen, deductedFen: 0 };
    },

    /** [src] excess promotion deposit: high-deposit categories closed, and the highest sold nothing last month. */
    async withdrawPromotionExcess(input: { shopId: string; reference: string; actor: string; asOf: string }): Promise<PromotionOutcome> {
      const { shopId } = input;
      const payout = {
        shopId,
        account: 'promotion_deposit' as const,
        key: `promotion-excess:${shopId}:${input.reference}`,
        reason: 'excess promotion deposit withdrawn',
        actor: input.actor,
        // Re-read under the payments' lock: a second withdrawal decided on the same balance takes nothing.
        capInTransaction: async (tx: Db) => Math.max(0, (await ledger.balance(shopId, 'promotion_deposit', tx)) - policy.promotionMinimumFen),
      };
      const result = await payOutOnce({ db, ledger, platform }, payout, async () => {
        const categories = await shops.categoriesOf(shopId);
        // Every special category carries the same extra, so the policy's first one the shop has is "the highest".
        const special = policy.specialCategories.filter((c) => categories.some((s) => s.category === c));
        const highest = special[0] ?? null;
        const sales = await platform.monthlySales(shopId, lastNaturalMonth(new Date(input.asOf)).month);
        const decision = excessPromotionWithdrawal(policy, {
          promotionBalanceFen: (await balances(shopId)).promotionBalanceFen,
          highDepositCategoriesOpen: categories.filter((c) => c.status === 'open' && special.includes(c.category)).map((c) => c.category),
          highestDepositCategory: highest,
          highestDepositCategoryLastMonthSalesFen: highest ? (sales.byCategory[highest] ?? 0) : 0,
        });
        return decision.allowed ? { amountFen: decision.amountFen } : { refused: decision.reasons };
      });
      return 'refused' in result ? { done: false, reasons: result.refused } : { done: true, refundedFen: result.amountFen, deductedFen: 0 };
    },

    /** Every open deposit account, a page at a time; the heartbeat carries the cursor. */
    async reassessShops(input: { month: string }) {
      const heartbeat = keepHeartbeating<{ after: string; shops: number; changed: number }>();
      let { after, shops, changed } = heartbeat.resumed ?? { after: '', shops: 0, changed: 0 };
      try {
        for (;;) {
          const page = await accounts.openAccountsAfter(after, REASSESSMENT_PAGE);
          if (page.length === 0) break;
          for (const account of page) {
            const required = await assess(account.shopId, account.shopType as EntityType, input.month);
            if (required.totalFen !== account.requiredFen) {
              await accounts.saveRequirement(account.shopId, { requiredFen: required.totalFen, parts: required, month: input.month, at: new Date() });
              await temporal?.workflow
                .getHandle(depositWorkflowId(account.shopId))
                .signal(requirementChangedSignal, { requiredFen: required.totalFen, month: input.month })
                .catch((err: unknown) => log.warn('deposit process not signalled', { shopId: account.shopId, error: String(err) }));
              changed += 1;
            }
            shops += 1;
            after = account.shopId;
          }
          heartbeat.progress({ after, shops, changed });
        }
      } finally {
        heartbeat.stop();
      }
      return { month: input.month, shops, changed };
    },
  };
}

export type DepositActivities = ReturnType<typeof createDepositActivities>;
