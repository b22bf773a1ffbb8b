import type { Knex } from 'knex';
import type { Ledger } from '../db/repositories/ledger';
import { refund } from '../db/repositories/ledger';
import { createPaymentRepository } from '../db/repositories/payments';
import { allocateRefund, refundableFen, type RefundAllocation } from '../domain/payments';
import type { PlatformClient } from '../platform/types';
import type { DepositAccountKind } from '../workflows/deposit-account.defs';

export interface Payout {
  shopId: string;
  account: DepositAccountKind;
  /** From the business request; the ledger and the platform both key the payout on it. */
  key: string;
  reason: string;
  actor: string;
  /**
   * The most this payout may take, read inside its transaction once the shop's payments are
   * locked (e.g. a promotion deposit's excess over its minimum): two payouts decided on the
   * same balance at once then cannot both take it.
   */
  capInTransaction?: (tx: Knex.Transaction) => Promise<number>;
}

export type PayoutDecision = { amountFen: number } | { refused: string[] };

export interface PayoutDeps {
  db: Knex;
  ledger: Ledger;
  platform: PlatformClient;
}

/** The platform's key of one payment's share of a payout. */
export const refundKeyOf = (payoutKey: string, paymentId: string): string => `${payoutKey}:${paymentId}`;

/**
 * Pays money out of a held deposit exactly once, back to the payments it came from.
 *
 * The first commit under the key fixes everything: the ledger's refund and its split over
 * the shop's payments (oldest first, each at most what it paid in and has not had back), in
 * one transaction that locks those payments, so two payouts never split the same fen. A
 * retry after it (say the platform's answer was lost) pays the same split under the same
 * keys and never decides again on a balance the payout already lowered. `decide` runs only
 * while nothing is recorded under the key; what it allows is capped at what is refundable.
 */
export async function payOutOnce({ db, ledger, platform }: PayoutDeps, p: Payout, decide: () => Promise<PayoutDecision>): Promise<PayoutDecision> {
  const payments = createPaymentRepository(db);
  // The ledger first: its posting and the split commit together, so a split read after the
  // posting was seen is complete. Read the other way round, a twin committing in between
  // would look like a payout posted before payments were recorded, and be paid again whole.
  const existing = await ledger.findByKey(p.key);
  let split = await payments.refundsUnder(p.key);
  if (!existing) {
    const decision = await decide();
    if ('refused' in decision || decision.amountFen <= 0) return decision;
    const recorded = await db.transaction(async (tx) => {
      const refundable = await payments.refundable(p.shopId, p.account, tx);
      // A twin that committed while this one decided: its split stands.
      if (await ledger.findByKey(p.key, tx)) return payments.refundsUnder(p.key, tx);
      const capFen = p.capInTransaction ? await p.capInTransaction(tx) : Number.POSITIVE_INFINITY;
      const amountFen = Math.min(decision.amountFen, refundableFen(refundable), capFen);
      if (amountFen <= 0) return [];
      const allocations = allocateRefund(amountFen, refundable);
      // Payer accounts stay in deposit_payments: a bank account is personal data, ledger details are not the place.
      await ledger.post({ idempotencyKey: p.key, shopId: p.shopId, kind: 'refund', reason: p.reason, actor: p.actor, entries: refund(p.account, amountFen), details: { refundedTo: allocations.map(({ paymentId, amountFen }) => ({ paymentId, amountFen })) } }, tx);
      await payments.recordRefund(p.key, allocations, tx);
      return allocations;
    });
    split = recorded;
  } else if (split.length === 0) {
    // Posted before payments were recorded: paid as it was then, to the shop's account on file.
    const amountFen = -(existing.entries.find((e) => e.account === p.account)?.amountFen ?? 0);
    await platform.refund({ shopId: p.shopId, account: p.account, amountFen, reference: p.key }, p.key);
    return { amountFen };
  }
  await payBack(platform, p, split);
  return { amountFen: split.reduce((sum, a) => sum + a.amountFen, 0) };
}

async function payBack(platform: PlatformClient, p: Payout, split: readonly RefundAllocation[]): Promise<void> {
  for (const a of split) {
    await platform.refund(
      { shopId: p.shopId, account: p.account, amountFen: a.amountFen, reference: p.key, paymentId: a.paymentId, payerAccount: a.payerAccount },
      refundKeyOf(p.key, a.paymentId),
    );
  }
}
