import { z } from 'zod';
import { MAX_MOVEMENT_FEN } from '../../domain/payments';

export { MAX_MOVEMENT_FEN };

/** The amount of one movement of money into or out of a deposit (offline transfers included). */
export const movementFen = z
  .number()
  .int()
  .positive()
  .max(MAX_MOVEMENT_FEN, 'at most 10,000,000,000 fen (100,000,000 CNY) per movement')
  .describe('integer fen (1 CNY = 100 fen)');
/** The deposit a movement goes to: the main one unless the caller names the promotion deposit. */
export const movementAccount = z.enum(['deposit', 'promotion_deposit']).default('deposit');
/** A reference or account name from outside (a payment id, a bank reference, the caller's own key). */
export const referenceText = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only (1–100)');

export const shopIdParams = z.object({ shopId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'not a shop id') }).strict();

export const paymentIdSchema = referenceText;

export const topUpBody = z
  .object({
    paymentId: paymentIdSchema.describe("the platform's payment id: credited once, when the platform has confirmed it, for the confirmed amount"),
    account: z.enum(['deposit', 'promotion_deposit']).optional().describe('a check: the account the payment was made to'),
    amountFen: movementFen.optional().describe('a check: the amount paid; a different one is refused'),
  })
  .strict();
export type TopUpBody = z.infer<typeof topUpBody>;

export const deductionBody = z
  .object({
    account: movementAccount,
    amountFen: movementFen,
    reason: z.string().trim().min(1).max(500),
    reference: referenceText.describe("the caller's reference for this deduction: a repeat with it is recorded once"),
  })
  .strict();
export type DeductionBody = z.infer<typeof deductionBody>;

export const emptyBody = z.object({}).strict();

const ledgerLine = z.object({
  transactionId: z.number().int(),
  kind: z.string(),
  reason: z.string(),
  actor: z.string(),
  createdAt: z.string(),
  entries: z.array(z.object({ account: z.string(), amountFen: z.number().int() })),
});

export const movementResponse = z.object({
  transactionId: z.number().int(),
  replayed: z.boolean(),
  balanceFen: z.number().int(),
  promotionBalanceFen: z.number().int(),
  owedFen: z.number().int().optional().describe('what the merchant owes beyond its deposits after this movement'),
  requiredFen: z.number().int(),
});

export const topUpResponse = movementResponse.extend({
  paymentId: z.string(),
  account: z.enum(['deposit', 'promotion_deposit']),
  creditedFen: z.number().int().describe('the confirmed amount of the payment'),
});

export const depositResponse = z.object({
  shopId: z.string(),
  merchantId: z.string(),
  shopStatus: z.string(),
  balanceFen: z.number().int(),
  promotionBalanceFen: z.number().int(),
  owedFen: z.number().int().describe('what the merchant owes beyond its deposits (fines above the balance, a closed shop\'s unpaid debt); a deposit top-up pays it first'),
  requirement: z
    .object({ requiredFen: z.number().int(), parts: z.unknown(), assessedForMonth: z.string().nullable(), assessedAt: z.string().nullable() })
    .nullable(),
  shortfallFen: z.number().int().describe('what a top-up must bring in: up to the requirement, plus what is owed'),
  restrictions: z.array(z.object({ restriction: z.string(), source: z.string(), since: z.string() })),
  openEpisode: z
    .object({ id: z.string(), startedAt: z.string(), schedule: z.unknown(), steps: z.array(z.object({ step: z.string(), at: z.string() })) })
    .nullable(),
  recentLines: z.array(ledgerLine),
});

export const closureResponse = z.object({
  closureId: z.string(),
  shopId: z.string(),
  status: z.string(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  closedAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const promotionClosureStarted = z.object({ requestId: z.string(), workflowId: z.string(), status: z.literal('requested') });

export const promotionClosureResponse = z.object({
  requestId: z.string(),
  shopId: z.string(),
  status: z.enum(['switching_off', 'waiting', 'settling', 'refunding', 'closed']),
  requestedBy: z.string(),
  blockers: z.object({ openOrders: z.number().int(), openViolations: z.number().int(), afterSalesUntil: z.string().nullable() }).nullable(),
  deductedFen: z.number().int().nullable().describe('what the merchant owed, taken from the promotion deposit before the refund'),
  refundedFen: z.number().int().nullable(),
  stillOwedFen: z.number().int().nullable().describe('what the promotion deposit could not cover: still owed'),
  attention: z.unknown().nullable(),
});

export const promotionResponse = z.object({ done: z.literal(true), refundedFen: z.number().int(), deductedFen: z.number().int() });
