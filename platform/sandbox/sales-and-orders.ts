import { Router } from 'express';
import { z } from 'zod';
import type { MonthlySales, ShopOrders } from '../types';
import { shopForRead, type SandboxState } from './state';
import { invalidRequest, monthSchema } from './validation';

const salesQuerySchema = z.object({ month: monthSchema }).strict();
const noQuerySchema = z.object({}).strict();

/** Read-only reports, answered from the fixtures set through `PUT /v1/_shops/:shopId`. */
export function salesAndOrdersRouter(state: SandboxState): Router {
  const router = Router();

  router.get('/shops/:shopId/sales', (req, res) => {
    const query = salesQuerySchema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    const { shopId } = req.params;
    const { month } = query.data;
    const byCategory = shopForRead(state, shopId).monthlySales[month] ?? {};
    const gmvFen = Object.values(byCategory).reduce((sum, fen) => sum + fen, 0);
    const body: MonthlySales = { shopId, month, gmvFen, byCategory };
    res.json(body);
  });

  router.get('/shops/:shopId/orders', (req, res) => {
    const query = noQuerySchema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    const body: ShopOrders = { orders: shopForRead(state, req.params.shopId).orders };
    res.json(body);
  });

  return router;
}
