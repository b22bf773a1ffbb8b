/**
 * The platform's order feed: what a consistent order state is. Both the sandbox platform
 * (refusing bad fixtures) and the import (refusing bad events before any SQL) check it.
 * Pure: zod only, no Node built-ins.
 */
import { z } from 'zod';

export type FeedOrderStatus = 'paid' | 'receipt_confirmed' | 'refunded';

/** An order's full state as the platform's order feed carries it after each change. */
export interface FeedOrder {
  orderId: string;
  merchantId: string;
  shopId: string;
  category: string;
  amountFen: number;
  status: FeedOrderStatus;
  /** ISO-8601 instants. */
  paidAt: string;
  receiptConfirmedAt: string | null;
  refundedAt: string | null;
  // Fulfilment facts (docs/rules.md §5.4), each optional: a feed event without them reads
  // as null, as every event did before the feed carried them.
  /** The partner platform's order this one mirrors (e.g. the Youzan order of a bound store's product). */
  partnerOrder?: { platform: PartnerOrderPlatform; orderId: string } | null;
  /** A pre-sale order: the instant its listing promised the goods; its 48 hours start then. */
  presalePromisedAt?: string | null;
  shippedAt?: string | null;
  trackingNumber?: string | null;
  /** The carrier's last tracking event. */
  trackingUpdatedAt?: string | null;
  /** What the carrier reported went wrong with the parcel. */
  logisticsException?: 'lost' | 'damaged' | null;
}

/** The partner platforms an order can mirror (the bound stores' platforms, platform/partners/types.ts). */
export const PARTNER_ORDER_PLATFORMS = ['taobao', 'tmall', 'youzan', 'jd', 'pinduoduo'] as const;
export type PartnerOrderPlatform = (typeof PARTNER_ORDER_PLATFORMS)[number];

const instant = z.iso.datetime({ offset: true });

export const feedOrderFields = {
  orderId: z.string().min(1).max(200),
  merchantId: z.string().min(1).max(200),
  shopId: z.string().min(1).max(200),
  category: z.string().min(1).max(100),
  // Integer fen, as the orders table keeps it (amount_fen > 0).
  amountFen: z.number().int().positive(),
  status: z.enum(['paid', 'receipt_confirmed', 'refunded']),
  paidAt: instant,
  receiptConfirmedAt: instant.nullable(),
  refundedAt: instant.nullable(),
  partnerOrder: z
    .object({ platform: z.enum(PARTNER_ORDER_PLATFORMS), orderId: z.string().min(1).max(200) })
    .strict()
    .nullable()
    .optional(),
  presalePromisedAt: instant.nullable().optional(),
  shippedAt: instant.nullable().optional(),
  trackingNumber: z.string().min(1).max(100).nullable().optional(),
  trackingUpdatedAt: instant.nullable().optional(),
  logisticsException: z.enum(['lost', 'damaged']).nullable().optional(),
};

/**
 * Status and times must agree, because settlement reads them together: a
 * receipt-confirmed order is paid by its receipt time, a refund is taken back by its
 * refund time. A refund may come before or after receipt; nothing happens before payment.
 */
export function checkOrderState(order: FeedOrder, ctx: z.RefinementCtx): void {
  const issue = (path: keyof FeedOrder, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (order.status === 'paid' && order.receiptConfirmedAt !== null) issue('receiptConfirmedAt', 'a paid order has no receipt yet');
  if (order.status === 'receipt_confirmed' && order.receiptConfirmedAt === null) issue('receiptConfirmedAt', 'a receipt_confirmed order needs its receipt time');
  if (order.status !== 'refunded' && order.refundedAt !== null) issue('refundedAt', `a ${order.status} order has no refund`);
  if (order.status === 'refunded' && order.refundedAt === null) issue('refundedAt', 'a refunded order needs its refund time');
  const paid = Date.parse(order.paidAt);
  for (const key of ['receiptConfirmedAt', 'refundedAt', 'shippedAt'] as const) {
    const at = order[key];
    if (at != null && Date.parse(at) < paid) issue(key, 'is before paidAt');
  }
  // Tracking and carrier reports exist only for a parcel that left: a shipment time comes first.
  const shipped = order.shippedAt ?? null;
  for (const key of ['trackingNumber', 'trackingUpdatedAt', 'logisticsException'] as const) {
    if (order[key] != null && shipped === null) issue(key, 'needs shippedAt');
  }
  if (order.trackingUpdatedAt != null && shipped !== null && Date.parse(order.trackingUpdatedAt) < Date.parse(shipped)) issue('trackingUpdatedAt', 'is before shippedAt');
}

/** An order state as the import reads it: fields the platform may add later are ignored. */
export const feedOrderSchema: z.ZodType<FeedOrder> = z.object(feedOrderFields).superRefine(checkOrderState);

export const orderFeedEventSchema = z.object({ seq: z.number().int().positive(), order: feedOrderSchema });
