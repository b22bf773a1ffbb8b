/**
 * Fulfilment rules (docs/rules.md §5.4): the 48-hour shipping deadline, the warning before
 * it, what counts as a late shipment, and the logistics compensation. Pure: the scan's SQL
 * selects orders by the `ship_by` instant these functions computed at import, so the rule
 * lives here once.
 */
import { z } from 'zod';
import { shanghaiDate } from './shanghai-time';

const MS_PER_HOUR = 3_600_000;

export interface FulfilmentPolicy {
  /** [src S1] every paid order ships within 48 hours. Calendar hours: weekends and holidays count. */
  shipWithinHours: number;
  /** [default] the merchant is warned this many hours after the clock started (36 h of 48). */
  warnAfterHours: number;
  /** [default] a shipped order whose tracking has not moved for this long is a logistics exception. */
  trackingSilenceHours: number;
  /** [default] compensation: this share of the order amount in basis points (300 = 3%), rounded half up to the fen… */
  compensationRateBp: number;
  /** [default] …at least this much (5 CNY)… */
  compensationMinFen: number;
  /** [default] …at most this much (50 CNY), and never more than the order amount. */
  compensationMaxFen: number;
}

export const DEFAULT_FULFILMENT_POLICY: FulfilmentPolicy = {
  shipWithinHours: 48,
  warnAfterHours: 36,
  trackingSilenceHours: 72,
  compensationRateBp: 300,
  compensationMinFen: 500,
  compensationMaxFen: 5_000,
};

const wholeHours = z.number().int().positive();
const fulfilmentPolicySchema = z
  .object({
    // The platform's rule, not ours to change: the import computes every deadline with it.
    shipWithinHours: z.literal(48),
    warnAfterHours: wholeHours.max(47),
    trackingSilenceHours: wholeHours.max(24 * 30),
    compensationRateBp: z.number().int().min(1).max(10_000),
    compensationMinFen: z.number().int().positive(),
    compensationMaxFen: z.number().int().positive(),
  })
  .strict()
  .refine((p) => p.compensationMinFen <= p.compensationMaxFen, { path: ['compensationMinFen'], message: 'must not exceed compensationMaxFen' });

/**
 * The policy from FULFILMENT_POLICY_JSON: a partial JSON object over the defaults. Unknown
 * keys are refused (a misspelt key would leave a default silently in force), and so is any
 * change of the 48 hours.
 */
export function parseFulfilmentPolicy(json: string): FulfilmentPolicy {
  let partial: unknown;
  try {
    partial = JSON.parse(json);
  } catch (error) {
    throw new Error(`invalid fulfilment policy: not valid JSON (${(error as Error).message})`);
  }
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) throw new Error('invalid fulfilment policy: expected a JSON object');
  const parsed = fulfilmentPolicySchema.safeParse({ ...DEFAULT_FULFILMENT_POLICY, ...partial });
  if (!parsed.success) throw new Error(`invalid fulfilment policy:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  return parsed.data;
}

export const LOGISTICS_EXCEPTION_KINDS = ['no_tracking', 'lost', 'damaged'] as const;
export type LogisticsExceptionKind = (typeof LOGISTICS_EXCEPTION_KINDS)[number];
/** What the feed itself reports; `no_tracking` is what the scan finds. */
export const FEED_LOGISTICS_EXCEPTIONS = ['lost', 'damaged'] as const;
export type FeedLogisticsException = (typeof FEED_LOGISTICS_EXCEPTIONS)[number];

/**
 * When the 48 hours start: at payment, or for a pre-sale order at the date its listing
 * promised, whichever is later (a pre-sale order paid after its promised date ships as any
 * other order).
 */
export function shippingClockStart(paidAt: Date, presalePromisedAt: Date | null): Date {
  return presalePromisedAt !== null && presalePromisedAt.getTime() > paidAt.getTime() ? presalePromisedAt : paidAt;
}

/** The last instant an order may ship and still count as on time (shipping exactly at it is on time). */
export function shipDeadline(paidAt: Date, presalePromisedAt: Date | null, policy: FulfilmentPolicy = DEFAULT_FULFILMENT_POLICY): Date {
  return new Date(shippingClockStart(paidAt, presalePromisedAt).getTime() + policy.shipWithinHours * MS_PER_HOUR);
}

/** Hours before the deadline the warning goes out (12 h with the defaults). */
export function warningLeadMs(policy: FulfilmentPolicy = DEFAULT_FULFILMENT_POLICY): number {
  return (policy.shipWithinHours - policy.warnAfterHours) * MS_PER_HOUR;
}

/** The instant the merchant is warned about an order still unshipped, from its deadline. */
export function warningAt(deadline: Date, policy: FulfilmentPolicy = DEFAULT_FULFILMENT_POLICY): Date {
  return new Date(deadline.getTime() - warningLeadMs(policy));
}

/** Late: shipped after the deadline, or not shipped at all once it has passed (`asOf`). */
export function isLate(deadline: Date, shippedAt: Date | null, asOf: Date): boolean {
  if (shippedAt !== null) return shippedAt.getTime() > deadline.getTime();
  return asOf.getTime() > deadline.getTime();
}

/** The day a late shipment counts against in the shop's shipping rate: the deadline's Shanghai date. */
export function lateDay(deadline: Date): string {
  return shanghaiDate(deadline);
}

/** When the tracking of a shipped order counts as silent: the silence window after the last update, or after shipping. */
export function trackingSilentAfter(shippedAt: Date, trackingUpdatedAt: Date | null, policy: FulfilmentPolicy = DEFAULT_FULFILMENT_POLICY): Date {
  const last = trackingUpdatedAt !== null && trackingUpdatedAt.getTime() > shippedAt.getTime() ? trackingUpdatedAt : shippedAt;
  return new Date(last.getTime() + policy.trackingSilenceHours * MS_PER_HOUR);
}

/**
 * The compensation for a logistics exception, in fen: `amount × rate / 10,000` rounded half
 * up to a whole fen, then raised to the minimum and lowered to the maximum, and finally never
 * more than the order amount (a 3 CNY order gets 3 CNY back, not 5).
 */
export function compensationFen(orderAmountFen: number, policy: FulfilmentPolicy = DEFAULT_FULFILMENT_POLICY): number {
  if (!Number.isSafeInteger(orderAmountFen) || orderAmountFen <= 0) throw new Error(`order amount must be a positive whole number of fen: ${orderAmountFen}`);
  // Integer half-up: floor((a × bp × 2 + 10,000) / 20,000). Safe below 2^53 for any real order.
  const share = Math.floor((orderAmountFen * policy.compensationRateBp * 2 + 10_000) / 20_000);
  const bounded = Math.min(Math.max(share, policy.compensationMinFen), policy.compensationMaxFen);
  return Math.min(bounded, orderAmountFen);
}

/** Shipping rate of a shop's day in basis points (10,000 = every order on time); null when nothing was due. */
export function shippingRateBp(due: number, late: number): number | null {
  if (due <= 0) return null;
  return Math.floor(((due - late) * 10_000) / due);
}
