import { z } from 'zod';
import { attentionView } from '../attention';
import {
  checkSubmission,
  DOCUMENT_KINDS,
  ENTITY_TYPES,
  STORE_PLATFORMS,
  type EntityType,
} from '../../domain/verification';
import { normalizeIdentityCode } from '../../domain/identity';

/** ID numbers and USCCs arrive with stray spaces or a lowercase x; normalise before checking. */
const identityCode = z.string().max(40).transform(normalizeIdentityCode);

const document = z.object({ kind: z.enum(DOCUMENT_KINDS), fileId: z.string().min(1).max(200) }).strict();

const boundStore = z
  .object({
    platform: z.enum(STORE_PLATFORMS),
    storeId: z.string().min(1).max(64),
    realNameEntity: z
      .object({ name: z.string().min(1).max(200), idNumber: identityCode.optional(), uscc: identityCode.optional() })
      .strict(),
  })
  .strict();

/** The parts of a submission that a resubmission may replace. */
const submissionFields = {
  idNumber: identityCode.optional(),
  uscc: identityCode.optional(),
  legalRepresentative: z.object({ name: z.string().min(1).max(100), idNumber: identityCode }).strict().optional(),
  bankCard: z
    .object({ bankName: z.string().min(1).max(100), accountNumber: z.string().max(40).transform((v) => v.replace(/\s/g, '')) })
    .strict()
    .optional(),
  documents: z.array(document).min(1).max(20),
  boundStores: z.array(boundStore).max(20).optional(),
};

export const merchantIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (1–64)');

const entityFields = {
  entityType: z.enum(ENTITY_TYPES),
  legalName: z.string().trim().min(1).max(200),
  ...submissionFields,
};
const addSubmissionIssues = (value: Parameters<typeof checkSubmission>[0], ctx: z.RefinementCtx) => {
  for (const issue of checkSubmission(value)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
};

export const startVerificationBody = z
  .object({ merchantId: merchantIdSchema, ...entityFields })
  .strict()
  .superRefine(addSubmissionIssues);
export type StartVerificationBody = z.infer<typeof startVerificationBody>;

/** A verified merchant's new entity: the same fields and checks as a first verification. */
export const entityChangeBody = z.object(entityFields).strict().superRefine(addSubmissionIssues);
export type EntityChangeBody = z.infer<typeof entityChangeBody>;

export const merchantIdParams = z.object({ merchantId: merchantIdSchema }).strict();

export const resubmissionBody = z.object(submissionFields).strict();
export type ResubmissionBody = z.infer<typeof resubmissionBody>;

/** The business checks of a resubmission depend on the case it belongs to. */
export function resubmissionIssues(body: ResubmissionBody, entityType: EntityType, legalName: string) {
  return checkSubmission({ ...body, entityType, legalName });
}

export const decisionBody = z
  .object({
    decision: z.enum(['approve', 'reject', 'request_info']),
    reasons: z.array(z.string().trim().min(1).max(500)).max(20).default([]),
  })
  .strict()
  .refine((d) => d.decision === 'approve' || d.reasons.length > 0, {
    path: ['reasons'],
    message: 'a rejection or a request for information needs at least one reason',
  });
export type DecisionBody = z.infer<typeof decisionBody>;

export const caseIdParams = z.object({ id: z.string().regex(/^vc_[A-Za-z0-9]{10,40}$/, 'not a verification case id') }).strict();

const historyEntry = z.object({
  seq: z.number().int(),
  type: z.string(),
  actor: z.string(),
  at: z.string(),
  details: z.record(z.string(), z.unknown()),
});

export const startVerificationResponse = z.object({
  caseId: z.string(),
  workflowId: z.string(),
  status: z.literal('in_review'),
});

export const verificationStateResponse = z.object({
  caseId: z.string(),
  merchantId: z.string(),
  status: z.string(),
  deadline: z.string().nullable(),
  overdue: z.boolean(),
  resubmitBy: z.string().nullable(),
  history: z.array(historyEntry),
});

const caseSummary = z.object({
  caseId: z.string(),
  kind: z.enum(['verification', 'entity_change']),
  entityType: z.enum(ENTITY_TYPES),
  status: z.string(),
  submittedAt: z.string(),
  closedAt: z.string().nullable(),
});

export const entityChangeResponse = z.object({
  caseId: z.string(),
  workflowId: z.string(),
  status: z.literal('in_review'),
});

export const verificationCaseResponse = verificationStateResponse.extend({
  workflowId: z.string(),
  kind: z.enum(['verification', 'entity_change']).describe("a first verification, or a verified merchant's change of entity"),
  earlierCases: z.array(caseSummary).describe("the merchant's cases filed before this one, newest first"),
  duplicateIdentity: z
    .array(z.object({ merchantId: z.string(), verified: z.boolean(), caseIds: z.array(z.string()) }))
    .optional()
    .describe('other merchants that filed or hold the same ID number / USCC; reviewer and admin only'),
  entityType: z.enum(ENTITY_TYPES),
  legalName: z.string(),
  submittedAt: z.string(),
  closedAt: z.string().nullable(),
  attention: attentionView,
  submissions: z.array(
    z.object({
      seq: z.number().int(),
      submittedAt: z.string(),
      idNumber: z.string().optional().describe('masked unless the caller is a reviewer or admin'),
      uscc: z.string().optional().describe('masked unless the caller is a reviewer or admin'),
      legalRepresentative: z.object({ name: z.string(), idNumber: z.string() }).optional(),
      bankCard: z.object({ bankName: z.string(), accountNumber: z.string() }).optional(),
      documents: z.array(document),
      boundStores: z.array(z.object({ platform: z.string(), storeId: z.string(), realNameEntity: z.object({ name: z.string() }) })),
    }),
  ),
});
