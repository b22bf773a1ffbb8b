import type { Knex } from 'knex';
import { z } from 'zod';
import { createVerificationQueue, VERIFICATION_QUEUE_ORDER, type QueuedCase } from '../../db/repositories/verification-queue';
import { isIsoDate } from '../../domain/civil-date';
import { startOfShanghaiDay } from '../../domain/calendar';
import { ENTITY_TYPES } from '../../domain/verification';
import type { Principal } from '../auth';
import { merchantScope } from '../list-route';
import { pageThrough, pagingQuery, queryBoolean } from '../pagination';
import { merchantIdSchema } from './schemas';

const VERIFICATION_STATUSES = ['in_review', 'awaiting_resubmission', 'needs_attention', 'approved', 'rejected', 'abandoned', 'closed_by_ops'] as const;
const KINDS = ['verification', 'entity_change'] as const;
const DAY_MS = 86_400_000;

/** An instant with its offset, or a day (Asia/Shanghai, the business clock): `from` is its start, `to` its end. */
const instantOrDay = (edge: 'from' | 'to') =>
  z
    .string()
    .max(40)
    .refine((v) => isIsoDate(v) || z.iso.datetime({ offset: true }).safeParse(v).success, 'a date (YYYY-MM-DD, Asia/Shanghai) or an ISO 8601 date-time with its offset')
    .transform((v) => (isIsoDate(v) ? new Date(startOfShanghaiDay(v).getTime() + (edge === 'to' ? DAY_MS : 0)) : new Date(v)));

export const verificationListQuery = z
  .object({
    status: z.enum(VERIFICATION_STATUSES).optional(),
    overdue: queryBoolean.optional().describe('true: past the review deadline (escalated to a supervisor)'),
    entityType: z.enum(ENTITY_TYPES).optional(),
    kind: z.enum(KINDS).optional().describe("a first verification, or a verified merchant's change of entity"),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's cases; a merchant lists its own only"),
    submittedFrom: instantOrDay('from').optional().describe('submitted at or after (a date counts from its start, Asia/Shanghai)'),
    submittedTo: instantOrDay('to').optional().describe('submitted before (a date counts to its end, Asia/Shanghai)'),
    ...pagingQuery,
  })
  .strict()
  .refine((q) => !q.submittedFrom || !q.submittedTo || q.submittedFrom < q.submittedTo, {
    path: ['submittedTo'],
    message: 'submittedTo must come after submittedFrom',
  });
export type VerificationListQuery = z.output<typeof verificationListQuery>;

export const verificationListItem = z.object({
  caseId: z.string(),
  merchantId: z.string(),
  kind: z.enum(KINDS),
  entityType: z.enum(ENTITY_TYPES),
  status: z.enum(VERIFICATION_STATUSES),
  submittedAt: z.string(),
  deadline: z.string().nullable().describe('null until the process has planned it'),
  deadlineProvisional: z.boolean().describe('counted on the provisional calendar (a year without official data)'),
  overdue: z.boolean().describe('past the deadline: escalated to a supervisor'),
  resubmitBy: z.string().nullable(),
  closedAt: z.string().nullable(),
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const itemOf = (c: QueuedCase): z.infer<typeof verificationListItem> => ({
  caseId: c.id,
  merchantId: c.merchant_id,
  kind: c.kind,
  entityType: c.entity_type as (typeof ENTITY_TYPES)[number],
  status: c.status as (typeof VERIFICATION_STATUSES)[number],
  submittedAt: new Date(c.submitted_at).toISOString(),
  deadline: iso(c.deadline),
  deadlineProvisional: c.deadline_provisional,
  overdue: c.overdue,
  resubmitBy: iso(c.resubmit_by),
  closedAt: iso(c.closed_at),
});

/** The reviewers' queue, earliest deadline first (db/repositories/verification-queue.ts). */
export function createVerificationList(db: Knex) {
  const queue = createVerificationQueue(db);
  return async ({ limit, cursor, ...requested }: VerificationListQuery, principal: Principal) => {
    const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
    return pageThrough({ list: 'verifications', filters }, VERIFICATION_QUEUE_ORDER, { cursor, limit }, (after, n) => queue.page(filters, after, n), itemOf);
  };
}
