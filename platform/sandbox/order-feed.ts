import { Router } from 'express';
import { z } from 'zod';
import { checkOrderState, feedOrderFields } from '../../domain/order-feed';
import type { OrderFeedEvent, OrderFeedPage } from '../types';
import { ORDER_FEED_FIXTURES_PATH } from './control-paths';
import type { SandboxState } from './state';
import { invalidRequest, queryRoute } from './validation';

const DEFAULT_PAGE = 500;
const MAX_PAGE = 1_000;

// Query values arrive as strings; 15 digits stay below Number.MAX_SAFE_INTEGER.
const wholeNumber = z.string().regex(/^\d{1,15}$/, 'expected a whole number').transform(Number);

const feedQuerySchema = z
  .object({
    after: wholeNumber.default(0),
    limit: wholeNumber.pipe(z.number().min(1).max(MAX_PAGE)).default(DEFAULT_PAGE),
  })
  .strict();

// Strict here, unlike the import's reading of events: a typo in a fixture should be a 400.
const appendSchema = z
  .object({ orders: z.array(z.object(feedOrderFields).strict().superRefine(checkOrderState)).min(1).max(MAX_PAGE) })
  .strict();

/**
 * The order feed (订单增量): every change of an order (paid, receipt confirmed, refunded) is
 * an event carrying the order's full state, numbered by a strictly increasing seq, so a
 * reader keeps only a cursor.
 */
export function orderFeedRouter(state: SandboxState): Router {
  const router = Router();
  queryRoute(router, '/orders/feed', feedQuerySchema, ({ after, limit }): OrderFeedPage => {
    // seq is index + 1, so the events after `after` start at index `after`.
    const events = state.orderFeed.slice(after, after + limit);
    return {
      events,
      lastSeq: events.length > 0 ? events[events.length - 1]!.seq : after,
      hasMore: state.orderFeed.length > after + events.length,
    };
  });
  return router;
}

/**
 * Test and dev control: appends one feed event per order state given, in the order given.
 * Not a platform API: no call log, no injected failures (see control-paths.ts).
 */
export function orderFeedFixturesRouter(state: SandboxState): Router {
  const router = Router();
  router.post(ORDER_FEED_FIXTURES_PATH, (req, res) => {
    const parsed = appendSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json(invalidRequest(parsed.error));
      return;
    }
    const first = state.orderFeed.length + 1;
    const events: OrderFeedEvent[] = parsed.data.orders.map((order, i) => ({ seq: first + i, order }));
    state.orderFeed.push(...events);
    res.status(201).json({ events });
  });
  return router;
}
