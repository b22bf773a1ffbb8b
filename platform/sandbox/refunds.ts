import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { RefundInput, RefundIssued } from '../types';
import { idempotentRoute } from './idempotency';
import { shopForRead, shopForUpdate, type SandboxState } from './state';
import { positiveFenSchema, queryRoute } from './validation';

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const refundInputSchema: z.ZodType<RefundInput> = z
  .object({
    shopId: z.string().min(1),
    account: z.enum(['deposit', 'promotion_deposit']),
    amountFen: positiveFenSchema,
    reference: z.string().min(1),
    paymentId: z.string().min(1).optional(),
    payerAccount: z.string().min(1).optional(),
  })
  .strict();

const listQuerySchema = z.object({ shopId: z.string().min(1) }).strict();

/**
 * Deposit refunds through the payment API. The sandbox keeps no deposit balance; what it
 * guards is that one Idempotency-Key pays once, and that a refund of one of its own payments
 * goes back to that payment's payer and never exceeds what it paid in and has not had back.
 * A payment it does not know (an offline transfer, sales proceeds) is paid to the payer
 * account given.
 */
export function refundsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/payments/refunds', {
    store: state.idempotency,
    schema: refundInputSchema,
    handle: ({ shopId, ...refund }) => {
      const payment = refund.paymentId ? state.payments.get(refund.paymentId) : undefined;
      if (payment) {
        if (payment.shopId !== shopId || payment.account !== refund.account || payment.status !== 'confirmed') {
          return { status: 409, body: { error: 'refund_not_of_this_payment' } };
        }
        if (refund.amountFen > payment.amountFen - payment.refundedFen) {
          return { status: 409, body: { error: 'refund_exceeds_payment', refundableFen: payment.amountFen - payment.refundedFen } };
        }
        payment.refundedFen += refund.amountFen;
        refund.payerAccount = payment.payerAccount;
      }
      const body: RefundIssued = { refundId: `rfd_${randomUUID()}`, amountFen: refund.amountFen };
      shopForUpdate(state, shopId).refunds.push({ ...refund, ...body, at: new Date().toISOString() });
      return { status: 201, body };
    },
  });

  queryRoute(router, '/payments/refunds', listQuerySchema, ({ shopId }) => ({ refunds: shopForRead(state, shopId).refunds.map((r) => ({ shopId, ...r })) }));

  return router;
}
