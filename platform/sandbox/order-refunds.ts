import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { FeedOrder, OrderRefundAnswer, OrderRefundRefusal } from '../types';
import type { SandboxOrderRefund, SandboxState } from './state';
import { invalidRequest, positiveFenSchema, queryRoute } from './validation';

const MAX_BATCH = 1_000;

const batchSchema = z
  .object({
    refunds: z
      .array(
        z
          .object({
            idempotencyKey: z.string().min(1).max(200),
            orderId: z.string().min(1).max(200),
            shopId: z.string().min(1).max(200),
            amountFen: positiveFenSchema,
            reason: z.string().min(1).max(500),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_BATCH),
  })
  .strict();

const listQuerySchema = z.object({ shopId: z.string().min(1).optional() }).strict();

/**
 * The orders the platform knows: each order's latest state in the order feed. Built as the
 * feed grows (it is append-only), so a batch reads a map instead of scanning the feed.
 */
interface FeedIndex {
  indexed: number;
  orders: Map<string, FeedOrder>;
}
const indexes = new WeakMap<SandboxState, FeedIndex>();

function knownOrders(state: SandboxState): Map<string, FeedOrder> {
  let index = indexes.get(state);
  if (!index) {
    index = { indexed: 0, orders: new Map() };
    indexes.set(state, index);
  }
  for (; index.indexed < state.orderFeed.length; index.indexed++) {
    const { order } = state.orderFeed[index.indexed]!;
    index.orders.set(order.orderId, order);
  }
  return index.orders;
}

function refusalOf(order: FeedOrder | undefined, item: { shopId: string; amountFen: number }): OrderRefundRefusal | undefined {
  if (!order) return 'order_unknown';
  if (order.shopId !== item.shopId) return 'order_not_of_shop';
  if (order.status === 'refunded') return 'order_already_refunded';
  if (item.amountFen > order.amountFen) return 'amount_exceeds_order';
  return undefined;
}

/**
 * Consumer order refunds (订单退款), a page in one call. Each item carries its own
 * idempotency key: an item refunded before under its key is answered with that refund and
 * paid no second time, so a retried page pays only what the first attempt did not. A refund
 * ends the order (the feed knows no partial refund): the platform appends its refunded state
 * to the order feed, and a second refund of it under another key is refused. Refusals are
 * per item and not remembered: the same item is judged again on the order as it then is.
 */
export function orderRefundsRouter(state: SandboxState): Router {
  const router = Router();

  router.post('/payments/order-refunds/batch', (req, res) => {
    const parsed = batchSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(invalidRequest(parsed.error));
      return;
    }
    const orders = knownOrders(state);
    const at = new Date().toISOString();
    const answers: OrderRefundAnswer[] = parsed.data.refunds.map(({ idempotencyKey, ...item }) => {
      const earlier = state.orderRefunds.get(idempotencyKey);
      if (earlier) return { idempotencyKey, orderId: earlier.orderId, outcome: 'refunded', refundId: earlier.refundId, amountFen: earlier.amountFen, refundedAt: earlier.at, replayed: true };
      const order = orders.get(item.orderId);
      const reason = refusalOf(order, item);
      if (reason || !order) return { idempotencyKey, orderId: item.orderId, outcome: 'refused', reason: reason ?? 'order_unknown' };
      const refund: SandboxOrderRefund = { refundId: `ordrfd_${randomUUID()}`, ...item, at };
      state.orderRefunds.set(idempotencyKey, refund);
      const refunded: FeedOrder = { ...order, status: 'refunded', refundedAt: at };
      state.orderFeed.push({ seq: state.orderFeed.length + 1, order: refunded });
      orders.set(order.orderId, refunded);
      return { idempotencyKey, orderId: item.orderId, outcome: 'refunded', refundId: refund.refundId, amountFen: refund.amountFen, refundedAt: at, replayed: false };
    });
    res.status(201).json({ refunds: answers });
  });

  queryRoute(router, '/payments/order-refunds', listQuerySchema, ({ shopId }) => ({
    refunds: [...state.orderRefunds.values()].filter((r) => !shopId || r.shopId === shopId),
  }));

  return router;
}
