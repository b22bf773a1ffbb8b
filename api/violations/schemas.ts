import { z } from 'zod';
import { attentionView } from '../attention';
import { VIOLATION_LEVELS, VIOLATION_TYPES } from '../../domain/violations';
import { shopIdParams } from '../shops/schemas';
import { merchantIdSchema } from '../verifications/schemas';

const CASE_STATUSES = ['opening', 'appealable', 'appealed', 'in_effect', 'permanent', 'expired', 'reversed'] as const;
const VIOLATION_STATUSES = [...CASE_STATUSES, 'needs_attention'] as const;
const productId = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only (1–100)');
// One line of free text a person wrote: the limits keep a case readable and its row small.
const text = (max: number) => z.string().trim().min(1).max(max);

export const caseIdParams = z.object({ caseId: z.string().regex(/^vio_[0-9a-f]{24}$/, 'not a violation case id') }).strict();
export const merchantParams = z.object({ merchantId: merchantIdSchema }).strict();

const REFERENCE_RULE = 'letters, digits and . _ : - only (1–100)';
export const referenceSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, REFERENCE_RULE).describe(REFERENCE_RULE);

export const openViolationBody = z
  .object({
    reference: referenceSchema
      .optional()
      .describe(
        'the business reference (e.g. the ops ticket): one case per reference across all shops; the same request again answers that case, a different one is a 409. Required unless an Idempotency-Key header names it',
      ),
    merchantId: merchantIdSchema,
    shopId: shopIdParams.shape.shopId,
    type: z.enum(VIOLATION_TYPES),
    level: z.enum(VIOLATION_LEVELS).describe('the level reported; the case may stand higher (escalation)'),
    evidence: z
      .object({
        summary: text(2000).describe('what ops saw, in words; never personal data'),
        productIds: z.array(productId).max(200).describe('products cited: a general penalty delists them'),
      })
      .strict(),
  })
  .strict();
export type OpenViolationBody = z.infer<typeof openViolationBody>;

export const appealBody = z.object({ statement: text(2000).describe("the merchant's case, in words") }).strict();
export type AppealBody = z.infer<typeof appealBody>;

export const appealDecisionBody = z
  .object({
    decision: z.enum(['upheld', 'rejected']),
    reasons: z.array(text(500)).max(20).default([]),
  })
  .strict()
  .refine((d) => d.decision === 'upheld' || d.reasons.length > 0, { path: ['reasons'], message: 'a rejection needs at least one reason' });
export type AppealDecisionBody = z.infer<typeof appealDecisionBody>;

export const openViolationHeaders = z.object({
  'idempotency-key': referenceSchema
    .optional()
    .describe(
      "the reference, when the body has none (if both are sent they must be equal); as the caller's Idempotency-Key, the same request again answers the first answer (Idempotent-Replayed: true)",
    ),
});

export const violationOpened = z.object({
  caseId: z.string(),
  workflowId: z.string(),
  status: z.enum(CASE_STATUSES).describe("'opening' for a new case; where the case stands for a replay"),
  reference: z.string(),
  replayed: z.boolean().describe('true when the reference had already opened this case with the same request'),
});

const restriction = z.enum(['stop_sales', 'disable_api', 'bar_big_promotions']);
const penalty = z.object({
  points: z.number().int(),
  delistProducts: z.boolean(),
  fineFen: z.number().int(),
  suspendSalesUntil: z.string().nullable(),
  restrictionsForEffect: z.array(restriction),
  permanentRestrictions: z.array(restriction),
  startClosure: z.boolean(),
  forfeitUnsettledCommission: z.boolean(),
});

const appeal = z.object({
  filedAt: z.string(),
  statement: z.string(),
  filedBy: z.string(),
  decision: z.enum(['upheld', 'rejected']).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  reasons: z.array(z.string()),
});

export const violationSummary = z.object({
  caseId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  type: z.enum(VIOLATION_TYPES),
  reportedLevel: z.enum(VIOLATION_LEVELS),
  level: z.enum(VIOLATION_LEVELS).describe('the level the case stands at, after any escalation'),
  escalatedBecause: z.enum(['repeat_in_effect', 'year_points']).nullable(),
  status: z.enum(VIOLATION_STATUSES),
  points: z.number().int(),
  penalty: penalty.nullable().describe('null until the case is decided'),
  fineDeductedFen: z.number().int(),
  appealDeadline: z.string().nullable(),
  effectEndsAt: z.string().nullable(),
  appeal: appeal.nullable(),
  openedBy: z.string(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  evidence: z.object({ summary: z.string(), productIds: z.array(z.string()) }),
});

export const violationCase = violationSummary.extend({
  attention: attentionView,
  history: z.array(z.object({ type: z.string(), actor: z.string(), at: z.string(), details: z.record(z.string(), z.unknown()) })),
});

export const merchantViolations = z.object({ merchantId: z.string(), violations: z.array(violationSummary) });
