import { z } from 'zod';
import { isCheckMonth, isQualificationDate, MAX_VALIDITY_YEARS, QUALIFICATION_KINDS, QUALIFICATION_VERIFICATIONS, QUALIFICATION_YEARS, withinMaxValidity } from '../../domain/qualifications';
import { pagingQuery } from '../pagination';
import { merchantIdSchema } from '../verifications/schemas';

// Years the database can store and a licence can name (PostgreSQL has no year 0).
const isoDate = z.string().refine(isQualificationDate, `a real day as YYYY-MM-DD, in the years ${QUALIFICATION_YEARS.first}–${QUALIFICATION_YEARS.last}`);
const kind = z.enum(QUALIFICATION_KINDS);
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM').refine(isCheckMonth, 'a month as YYYY-MM');

export const merchantParams = z.object({ merchantId: merchantIdSchema }).strict();
export const monthParams = z.object({ month }).strict();
export const qualificationParams = z.object({ merchantId: merchantIdSchema, qualificationId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a qualification id') }).strict();

export const recordQualificationBody = z
  .object({
    kind,
    number: z
      .string()
      .regex(/^[A-Za-z0-9 ]{4,64}$/, 'letters, digits and spaces (4–64)')
      .optional()
      .describe('the licence number; only its last four characters are kept (a business licence number is the USCC: never stored in clear)'),
    validFrom: isoDate.describe('the first day it is valid (Shanghai)'),
    expiresOn: isoDate.describe('the last day it is valid (Shanghai); the day after, it has expired'),
  })
  .strict()
  .refine((b) => b.validFrom <= b.expiresOn, { message: 'expiresOn is before validFrom', path: ['expiresOn'] })
  .refine((b) => b.validFrom > b.expiresOn || withinMaxValidity(b.validFrom, b.expiresOn), {
    message: `expiresOn is more than ${MAX_VALIDITY_YEARS} years after validFrom`,
    path: ['expiresOn'],
  });
export type RecordQualificationBody = z.infer<typeof recordQualificationBody>;

export const qualificationView = z.object({
  qualificationId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  kind,
  numberMasked: z.string().nullable().describe('****0Y43: the last four characters only'),
  validFrom: z.string(),
  expiresOn: z.string(),
  status: z.enum(['valid', 'expiring', 'expired']).describe("today's status (Shanghai): expiring within 30 days, expired from the day after expiresOn"),
  recordedBy: z.string(),
  recordedAt: z.string(),
  supersededBy: z.string().nullable().describe('the renewal that replaced it; null while current'),
  verification: z.enum(QUALIFICATION_VERIFICATIONS).describe("pending (a merchant's record, until ops verify it: the check does not trust it and it supersedes nothing), verified or rejected"),
  verifiedBy: z.string().nullable(),
  verifiedAt: z.string().nullable(),
  verificationReason: z.string().nullable(),
});
export type QualificationView = z.infer<typeof qualificationView>;

export const recordedQualification = qualificationView.extend({
  supersedes: z.string().nullable().describe('the qualification this one renews, if any'),
});

export const verificationBody = z
  .object({
    decision: z.enum(['verify', 'reject']),
    reason: z.string().trim().min(1).max(500).describe('what was checked (verify) or what is wrong (reject)'),
  })
  .strict();
export type VerificationBody = z.infer<typeof verificationBody>;

export const qualificationListQuery = z.object({ ...pagingQuery }).strict();
export type QualificationListQuery = z.output<typeof qualificationListQuery>;

export const startCheckBody = z
  .object({ month: month.optional().describe("the current Shanghai month (the check judges by today); by default that month") })
  .strict();

export const checkStarted = z.object({
  month: z.string(),
  workflowId: z.string(),
  joined: z.boolean().describe('true when a check of the month was already running: this request joined it'),
});

export const checkView = z.object({
  month: z.string(),
  workflowId: z.string(),
  status: z.enum(['running', 'completed']),
  checkedOn: z.string().describe('the Shanghai day it judged by'),
  checked: z.number().int(),
  expiring: z.number().int(),
  expired: z.number().int(),
  notified: z.number().int(),
  casesOpened: z.number().int(),
  skipped: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});
