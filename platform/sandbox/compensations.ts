import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { CompensationInput, CompensationPaid, FeedOrder } from '../types';
import { idempotentRoute, routeParam } from './idempotency';
import type { SandboxState } from './state';
import { positiveFenSchema, queryRoute } from './validation';

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const compensationInputSchema: z.ZodType<CompensationInput> = z
  .object({
    shopId: z.string().min(1),
    kind: z.enum(['no_tracking', 'lost', 'damaged']),
    amountFen: positiveFenSchema,
    reason: z.string().min(1).max(500),
  })
  .strict();

const listQuerySchema = z.object({ orderId: z.string().min(1).optional() }).strict();

/** The order's latest state in the feed: the platform knows an order by what it published. */
function latestOrder(state: SandboxState, orderId: string): FeedOrder | undefined {
  for (let i = state.orderFeed.length - 1; i >= 0; i -= 1) {
    const event = state.orderFeed[i]!;
    if (event.order.orderId === orderId) return event.order;
  }
  return undefined;
}

/**
 * Logistics compensation to an order's buyer. Besides the Idempotency-Key (one payment per
 * key), the platform itself pays an order and kind once: a second key for the same pair is
 * refused, so a bug on our side that made up a new key still cannot pay twice.
 */
export function compensationsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/orders/:orderId/compensations', {
    store: state.idempotency,
    schema: compensationInputSchema,
    handle: (input, req) => {
      const orderId = routeParam(req, 'orderId');
      const order = latestOrder(state, orderId);
      const refuse = (error: string) => ({ status: 409, body: { error } });
      if (!order) return refuse('order_unknown');
      if (order.shopId !== input.shopId) return refuse('order_not_of_shop');
      if (!order.shippedAt) return refuse('order_not_shipped');
      if (input.amountFen > order.amountFen) return refuse('compensation_exceeds_order');
      if (state.compensations.some((c) => c.orderId === orderId && c.kind === input.kind)) return refuse('already_compensated');
      const body: CompensationPaid = { compensationId: `cmp_${randomUUID()}`, orderId, amountFen: input.amountFen };
      state.compensations.push({ ...input, ...body, at: new Date().toISOString() });
      return { status: 201, body };
    },
  });

  queryRoute(router, '/compensations', listQuerySchema, ({ orderId }) => ({
    compensations: state.compensations.filter((c) => orderId === undefined || c.orderId === orderId),
  }));

  return router;
}
