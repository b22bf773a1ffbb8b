import { Router } from 'express';
import { z } from 'zod';
import type { MonthlySales, ShopOrders } from '../types';
import { shopForRead, type SandboxState } from './state';
import { routeParam } from './idempotency';
import { monthSchema, queryRoute } from './validation';

const salesQuerySchema = z.object({ month: monthSchema }).strict();
const noQuerySchema = z.object({}).strict();

/** Read-only reports, answered from the fixtures set through `PUT /v1/_shops/:shopId`. */
export function salesAndOrdersRouter(state: SandboxState): Router {
  const router = Router();

  queryRoute(router, '/shops/:shopId/sales', salesQuerySchema, ({ month }, req): MonthlySales => {
    const shopId = routeParam(req, 'shopId');
    const byCategory = shopForRead(state, shopId).monthlySales[month] ?? {};
    const gmvFen = Object.values(byCategory).reduce((sum, fen) => sum + fen, 0);
    return { shopId, month, gmvFen, byCategory };
  });

  queryRoute(router, '/shops/:shopId/orders', noQuerySchema, (_query, req): ShopOrders => ({ orders: shopForRead(state, routeParam(req, 'shopId')).orders }));

  return router;
}
