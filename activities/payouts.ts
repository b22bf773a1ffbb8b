import type { Ledger } from '../db/repositories/ledger';
import { refund } from '../db/repositories/ledger';
import type { PlatformClient } from '../platform/types';
import type { DepositAccountKind } from '../workflows/deposit-account.defs';

export interface Payout {
  shopId: string;
  account: DepositAccountKind;
  /** From the business request; the ledger and the platform both key the payout on it. */
  key: string;
  reason: string;
  actor: string;
}

export type PayoutDecision = { amountFen: number } | { refused: string[] };

/**
 * Pays money out of a held deposit exactly once. The first ledger posting under the key
 * fixes the amount: a retry after it (say the platform's answer was lost) pays that same
 * amount under the same key, and never decides again on a balance the payout already
 * lowered. `decide` runs only while nothing is recorded under the key.
 */
export async function payOutOnce(ledger: Ledger, platform: PlatformClient, p: Payout, decide: () => Promise<PayoutDecision>): Promise<PayoutDecision> {
  const existing = await ledger.findByKey(p.key);
  let amountFen: number;
  if (existing) {
    amountFen = -(existing.entries.find((e) => e.account === p.account)?.amountFen ?? 0);
  } else {
    const decision = await decide();
    if ('refused' in decision || decision.amountFen <= 0) return decision;
    amountFen = decision.amountFen;
    await ledger.post({ idempotencyKey: p.key, shopId: p.shopId, kind: 'refund', reason: p.reason, actor: p.actor, entries: refund(p.account, amountFen) });
  }
  await platform.refund({ shopId: p.shopId, account: p.account, amountFen, reference: p.key }, p.key);
  return { amountFen };
}
