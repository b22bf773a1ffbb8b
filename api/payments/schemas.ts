import { z } from 'zod';
import { MAX_MOVEMENT_FEN } from '../../domain/payments';

// An offline transfer is a movement like any other: at most 100 million CNY.
const fen = z
  .number()
  .int()
  .positive()
  .max(MAX_MOVEMENT_FEN, 'at most 10,000,000,000 fen (100,000,000 CNY) per movement')
  .describe('integer fen (1 CNY = 100 fen)');

export const offlineTopUpParams = z
  .object({
    shopId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'not a shop id'),
    offlineTopUpId: z.string().regex(/^off_[a-f0-9]{24}$/, 'not an offline top-up id'),
  })
  .strict();

export const offlineTopUpBody = z
  .object({
    account: z.enum(['deposit', 'promotion_deposit']).default('deposit'),
    amountFen: fen,
    payerAccount: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only (1–100)')
      .describe('the account the transfer came from: refunds of it go back there'),
    transferReference: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only (1–100)')
      .describe("the bank's reference of the transfer: one record per shop and reference"),
  })
  .strict();
export type OfflineTopUpBody = z.infer<typeof offlineTopUpBody>;

export const offlineTopUpView = z.object({
  offlineTopUpId: z.string(),
  shopId: z.string(),
  account: z.enum(['deposit', 'promotion_deposit']),
  amountFen: z.number().int(),
  payerAccount: z.string(),
  transferReference: z.string(),
  status: z.enum(['pending_approval', 'approved']),
  recordedBy: z.string(),
  recordedAt: z.string(),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  paymentId: z.string().describe('what the deposit credits it under: offline:<offlineTopUpId>'),
});

export const offlineTopUpList = z.object({ offlineTopUps: z.array(offlineTopUpView) });

export const approvalResponse = z.object({
  offlineTopUp: offlineTopUpView,
  transactionId: z.number().int(),
  replayed: z.boolean(),
  creditedFen: z.number().int(),
  balanceFen: z.number().int(),
  promotionBalanceFen: z.number().int(),
});

/** What the platform sends (signed) when a payment changes status; extra fields are ignored. */
export const paymentCallbackBody = z.object({
  paymentId: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/),
  shopId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  status: z.enum(['pending', 'confirmed', 'failed']),
});

export const paymentCallbackResponse = z.object({
  paymentId: z.string(),
  credited: z.boolean(),
  transactionId: z.number().int().optional(),
  replayed: z.boolean().optional(),
  creditedFen: z.number().int().optional(),
});
