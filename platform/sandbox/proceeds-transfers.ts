import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { ProceedsTransfer, ProceedsTransferInput } from '../types';
import { idempotentRoute, routeParam } from './idempotency';
import { shopForUpdate, type SandboxState } from './state';
import { positiveFenSchema } from './validation';

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const proceedsTransferSchema: z.ZodType<ProceedsTransferInput> = z
  .object({ maxAmountFen: positiveFenSchema, purpose: z.string().min(1) })
  .strict();

/**
 * Step 6 of the deposit ladder: the platform takes what sales proceeds the shop has, up to
 * the amount asked for, to top its deposit up. Less than asked (even 0) is an answer, not
 * an error: the caller decides what the shortfall means.
 */
export function proceedsTransfersRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/shops/:shopId/proceeds-transfers', {
    store: state.idempotency,
    schema: proceedsTransferSchema,
    handle: (input, req) => {
      const shop = shopForUpdate(state, routeParam(req, 'shopId'));
      const transferredFen = Math.min(input.maxAmountFen, shop.availableProceedsFen);
      shop.availableProceedsFen -= transferredFen;
      const body: ProceedsTransfer = { transferId: `ptf_${randomUUID()}`, transferredFen };
      shop.proceedsTransfers.push({ ...body, ...input, at: new Date().toISOString() });
      return { status: 201, body };
    },
  });

  return router;
}
