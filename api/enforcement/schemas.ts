import { z } from 'zod';
import { ENFORCEMENT_REASONS, ENFORCEMENT_STATES, REFUND_OUTCOMES } from '../../domain/enforcement';
import { pagingQuery } from '../pagination';

const actionId = z.string().regex(/^enf_[a-f0-9]{24}$/, 'an enforcement action id (enf_ and 24 hex digits)');
const shopId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a shop id');

export const actionParams = z.object({ actionId }).strict();

export const openActionBody = z
  .object({
    shopId: shopId.describe('the shop the action is against'),
    reason: z.enum(ENFORCEMENT_REASONS),
    evidence: z.string().trim().min(10).max(20_000).describe('what was found and where: the brand owner\'s statement, the forged document\'s reference, the report that found it. No consumer\'s personal data'),
  })
  .strict();
export type OpenActionBody = z.infer<typeof openActionBody>;

/** Approve, reject, pause, resume: who decides comes from the token; a note is optional. */
export const decisionBody = z
  .object({ note: z.string().trim().min(1).max(500).optional().describe('why, for the audit trail') })
  .strict();

export const progressView = z.object({
  done: z.number().int().describe('orders refunded by this action'),
  failed: z.number().int().describe('orders the platform refused (listed at /refunds?state=refused, with their reason)'),
  remaining: z.number().int().describe("the shop's orders not yet sent"),
});

export const actionView = z.object({
  actionId: z.string(),
  shopId: z.string(),
  merchantId: z.string(),
  reason: z.enum(ENFORCEMENT_REASONS),
  evidence: z.string(),
  state: z.enum(ENFORCEMENT_STATES),
  openedBy: z.string(),
  openedAt: z.string(),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  rejectedBy: z.string().nullable(),
  workflowId: z.string(),
  finishedAt: z.string().nullable(),
  progress: progressView,
  attention: z
    .object({ step: z.string(), error: z.string(), since: z.string() })
    .nullable()
    .describe('set while a step the platform refused for good waits for ops (state needs_attention): POST …/attention {"action":"retry"} runs it again'),
});
export type ActionView = z.infer<typeof actionView>;

export const refundListQuery = z
  .object({ state: z.enum(REFUND_OUTCOMES).optional().describe('refused: the orders ops must look at'), ...pagingQuery })
  .strict();
export type RefundListQuery = z.output<typeof refundListQuery>;

export const refundView = z.object({
  orderId: z.string(),
  amountFen: z.number().int(),
  state: z.enum(REFUND_OUTCOMES),
  platformRefundId: z.string().nullable(),
  reasonCode: z.string().nullable().describe('order_unknown, order_not_of_shop, amount_exceeds_order, order_already_refunded'),
  refundedAt: z.string().nullable(),
  recordedAt: z.string(),
});
