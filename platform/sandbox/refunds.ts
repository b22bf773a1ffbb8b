import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { RefundInput, RefundIssued } from '../types';
import { idempotentRoute } from './idempotency';
import { shopForRead, shopForUpdate, type SandboxState } from './state';
import { invalidRequest, positiveFenSchema } from './validation';

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const refundInputSchema: z.ZodType<RefundInput> = z
  .object({
    shopId: z.string().min(1),
    account: z.enum(['deposit', 'promotion_deposit']),
    amountFen: positiveFenSchema,
    reference: z.string().min(1),
  })
  .strict();

const listQuerySchema = z.object({ shopId: z.string().min(1) }).strict();

/**
 * Deposit refunds through the payment API. The sandbox keeps no deposit balance, so it pays
 * whatever is asked: what it guards is that one Idempotency-Key pays once.
 */
export function refundsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/payments/refunds', {
    store: state.idempotency,
    schema: refundInputSchema,
    handle: ({ shopId, ...refund }) => {
      const body: RefundIssued = { refundId: `rfd_${randomUUID()}`, amountFen: refund.amountFen };
      shopForUpdate(state, shopId).refunds.push({ ...refund, ...body, at: new Date().toISOString() });
      return { status: 201, body };
    },
  });

  router.get('/payments/refunds', (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    const { shopId } = query.data;
    res.json({ refunds: shopForRead(state, shopId).refunds.map((r) => ({ shopId, ...r })) });
  });

  return router;
}
