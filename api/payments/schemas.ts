import { z } from 'zod';
import { movementAccount, movementFen, referenceText, shopIdParams } from '../shops/schemas';

export const offlineTopUpParams = shopIdParams
  .extend({ offlineTopUpId: z.string().regex(/^off_[a-f0-9]{24}$/, 'not an offline top-up id') })
  .strict();

// An offline transfer is a movement like any other: the same accounts, at most 100 million CNY.
export const offlineTopUpBody = z
  .object({
    account: movementAccount,
    amountFen: movementFen,
    payerAccount: referenceText.describe('the account the transfer came from: refunds of it go back there'),
    transferReference: referenceText.describe("the bank's reference of the transfer: one record per shop and reference"),
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
