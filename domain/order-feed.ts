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
}

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
  for (const key of ['receiptConfirmedAt', 'refundedAt'] as const) {
    const at = order[key];
    if (at !== null && Date.parse(at) < paid) issue(key, 'is before paidAt');
  }
}

/** An order state as the import reads it: fields the platform may add later are ignored. */
export const feedOrderSchema: z.ZodType<FeedOrder> = z.object(feedOrderFields).superRefine(checkOrderState);

export const orderFeedEventSchema = z.object({ seq: z.number().int().positive(), order: feedOrderSchema });
