import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { PayoutInput, PayoutIssued } from '../types';
import { idempotentRoute } from './idempotency';
import type { SandboxState } from './state';
import { invalidRequest, positiveFenSchema, queryRoute } from './validation';

export const payoutInputSchema: z.ZodType<PayoutInput> = z
  .object({
    merchantId: z.string().min(1),
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'),
    amountFen: positiveFenSchema,
  })
  .strict();

const batchSchema = z
  .object({
    payouts: z
      .array(z.object({ idempotencyKey: z.string().min(1).max(200) }).extend({ merchantId: z.string().min(1), period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/), amountFen: positiveFenSchema }).strict())
      .min(1)
      .max(1000),
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

  /**
   * A page of payouts in one call (批量付款). Each item carries its own idempotency key: an
   * item seen before is answered with its first payout and paid no second time, so a
   * retried batch pays only what the first attempt did not.
   */
  router.post('/payments/payouts/batch', (req, res) => {
    const parsed = batchSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(invalidRequest(parsed.error));
      return;
    }
    const answers = parsed.data.payouts.map(({ idempotencyKey, ...payout }) => {
      const earlier = state.payoutsByKey.get(idempotencyKey);
      if (earlier) return { idempotencyKey, ...earlier, replayed: true };
      const issued: PayoutIssued = { payoutId: `po_${randomUUID()}`, amountFen: payout.amountFen };
      state.payoutsByKey.set(idempotencyKey, issued);
      state.payouts.push({ ...payout, ...issued, at: new Date().toISOString() });
      return { idempotencyKey, ...issued, replayed: false };
    });
    res.status(201).json({ payouts: answers });
  });

  queryRoute(router, '/payments/payouts', listQuerySchema, ({ merchantId, period }) => ({
    payouts: state.payouts.filter((p) => (!merchantId || p.merchantId === merchantId) && (!period || p.period === period)),
  }));

  return router;
}
