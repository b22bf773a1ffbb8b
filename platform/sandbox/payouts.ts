import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { PayoutInput, PayoutIssued } from '../types';
import { idempotentRoute } from './idempotency';
import type { SandboxState } from './state';
import { invalidRequest, positiveFenSchema } from './validation';

export const payoutInputSchema: z.ZodType<PayoutInput> = z
  .object({
    merchantId: z.string().min(1),
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'),
    amountFen: positiveFenSchema,
  })
  .strict();

const listQuerySchema = z.object({ merchantId: z.string().min(1).optional(), period: z.string().optional() }).strict();

/**
 * Settlement payouts through the payment API. What it guards is the settlement's own
 * guarantee: one Idempotency-Key (`settle:<merchant>:<period>`) pays once.
 */
export function payoutsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/payments/payouts', {
    store: state.idempotency,
    schema: payoutInputSchema,
    handle: (payout) => {
      const body: PayoutIssued = { payoutId: `po_${randomUUID()}`, amountFen: payout.amountFen };
      state.payouts.push({ ...payout, ...body, at: new Date().toISOString() });
      return { status: 201, body };
    },
  });

  router.get('/payments/payouts', (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    const { merchantId, period } = query.data;
    res.json({
      payouts: state.payouts.filter((p) => (!merchantId || p.merchantId === merchantId) && (!period || p.period === period)),
    });
  });

  return router;
}
