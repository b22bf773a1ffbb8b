/**
 * Money into a deposit is a payment someone made, and money out goes back to it. A top-up
 * is only a claim until the payment behind it is confirmed; these are the rules that decide
 * what a confirmed payment credits and where a refund goes.
 */

/**
 * [default] One movement is at most 100 million CNY: far above any deposit requirement (tens
 * of thousands of CNY), and small enough that a shop's balances stay safe integers (2^53 fen)
 * over any number of real movements. Larger amounts are typos or probes; two of 2^53 − 1 fen
 * once pushed a balance past what any later read of it survives.
 */
export const MAX_MOVEMENT_FEN = 10_000_000_000;

export type PaymentAccount = 'deposit' | 'promotion_deposit';
export type PaymentStatus = 'pending' | 'confirmed' | 'failed';

/** A payment as its source reports it (the platform, or an approved offline transfer). */
export interface ReportedPayment {
  paymentId: string;
  shopId: string;
  account: PaymentAccount;
  amountFen: number;
  payerAccount: string;
  status: PaymentStatus;
  /** What the platform already gave back of it before we credited it (a chargeback, its own refund). */
  refundedFen?: number;
}

/** What the caller claims about the payment; the account and the amount are only checks. */
export interface CreditClaim {
  shopId: string;
  paymentId: string;
  account?: PaymentAccount;
  amountFen?: number;
}

export type CreditRefusal = 'PaymentNotFound' | 'PaymentPending' | 'PaymentFailed' | 'PaymentMismatch';

export type CreditDecision =
  | { credit: true; account: PaymentAccount; amountFen: number; payerAccount: string }
  | { credit: false; refusal: CreditRefusal; message: string };

/**
 * A payment credits its confirmed amount to its own shop and account, nothing else: the
 * caller's account and amount may only agree with it.
 */
export function creditDecision(claim: CreditClaim, payment: ReportedPayment | null): CreditDecision {
  const refuse = (refusal: CreditRefusal, message: string): CreditDecision => ({ credit: false, refusal, message });
  if (!payment || payment.paymentId !== claim.paymentId) return refuse('PaymentNotFound', `payment ${claim.paymentId} is unknown`);
  if (payment.shopId !== claim.shopId) return refuse('PaymentMismatch', `payment ${claim.paymentId} was made for another shop`);
  if (claim.account !== undefined && payment.account !== claim.account) {
    return refuse('PaymentMismatch', `payment ${claim.paymentId} was made to the ${payment.account} account, not ${claim.account}`);
  }
  if (claim.amountFen !== undefined && payment.amountFen !== claim.amountFen) {
    return refuse('PaymentMismatch', `payment ${claim.paymentId} is of ${payment.amountFen} fen, not ${claim.amountFen}`);
  }
  if (payment.status === 'pending') return refuse('PaymentPending', `payment ${claim.paymentId} is not confirmed yet; retry once it is`);
  if (payment.status === 'failed') return refuse('PaymentFailed', `payment ${claim.paymentId} failed; nothing was paid`);
  if (!Number.isSafeInteger(payment.amountFen) || payment.amountFen <= 0) return refuse('PaymentMismatch', `payment ${claim.paymentId} has no positive amount`);
  // Whoever reports it (the platform, or two finance people), one payment moves no more than any other movement.
  if (payment.amountFen > MAX_MOVEMENT_FEN) {
    return refuse('PaymentMismatch', `payment ${claim.paymentId} of ${payment.amountFen} fen is above the ${MAX_MOVEMENT_FEN} fen allowed per movement`);
  }
  // Money the platform already returned to the payer is not held for the shop: crediting it would invent it.
  const heldFen = payment.amountFen - (payment.refundedFen ?? 0);
  if (!Number.isSafeInteger(heldFen) || heldFen > payment.amountFen) return refuse('PaymentMismatch', `payment ${claim.paymentId} reports an impossible refunded amount`);
  if (heldFen <= 0) return refuse('PaymentFailed', `payment ${claim.paymentId} was refunded in full by the platform; nothing is held to credit`);
  return { credit: true, account: payment.account, amountFen: heldFen, payerAccount: payment.payerAccount };
}

/** A payment still holding money that may go back to its payer. */
export interface RefundablePayment {
  paymentId: string;
  payerAccount: string;
  amountFen: number;
  refundedFen: number;
}

export interface RefundAllocation {
  paymentId: string;
  payerAccount: string;
  amountFen: number;
}

/** What the payments can still give back: paid in and not yet refunded. */
export function refundableFen(payments: readonly RefundablePayment[]): number {
  return payments.reduce((sum, p) => sum + Math.max(0, p.amountFen - p.refundedFen), 0);
}

/**
 * Splits a refund over the payments it came from, in the order given (oldest first), each
 * taking at most what it paid in and has not had back. Never more than they can give: the
 * allocations sum to `min(amountFen, refundableFen(payments))`.
 */
export function allocateRefund(amountFen: number, payments: readonly RefundablePayment[]): RefundAllocation[] {
  if (!Number.isSafeInteger(amountFen) || amountFen < 0) throw new Error(`refund must be a whole, non-negative number of fen, got ${amountFen}`);
  const allocations: RefundAllocation[] = [];
  let left = amountFen;
  for (const p of payments) {
    if (left === 0) break;
    const take = Math.min(left, Math.max(0, p.amountFen - p.refundedFen));
    if (take === 0) continue;
    allocations.push({ paymentId: p.paymentId, payerAccount: p.payerAccount, amountFen: take });
    left -= take;
  }
  return allocations;
}

/**
 * Maker and checker must be two people. Subs come from tokens, and one person's sub may reach
 * us spelt another way (case, blanks, full-width letters), so they are compared as NFKC,
 * trimmed and lower-cased: `Fang` cannot approve what `fang` recorded.
 */
export function samePerson(a: string, b: string): boolean {
  const canonical = (sub: string) => sub.normalize('NFKC').trim().toLowerCase();
  return canonical(a) === canonical(b);
}
