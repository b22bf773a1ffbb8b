import type { Knex } from 'knex';
import { z } from 'zod';
import { createViolationList, VIOLATION_LIST_ORDER, type ListedViolation } from '../../db/repositories/violation-list';
import { VIOLATION_LEVELS, VIOLATION_TYPES } from '../../domain/violations';
import type { Principal } from '../auth';
import { merchantScope } from '../list-route';
import { pageThrough, pagingQuery, queryBoolean } from '../pagination';
import { shopIdParams } from '../shops/schemas';
import { merchantIdSchema } from '../verifications/schemas';

const SHOWN_STATUSES = ['opening', 'appealable', 'appealed', 'in_effect', 'permanent', 'expired', 'reversed', 'needs_attention'] as const;

export const violationListQuery = z
  .object({
    status: z.enum(SHOWN_STATUSES).optional().describe('as the case shows it: needs_attention while a step waits for ops'),
    level: z.enum(VIOLATION_LEVELS).optional().describe('the level the case stands at, after any escalation'),
    type: z.enum(VIOLATION_TYPES).optional(),
    shopId: shopIdParams.shape.shopId.optional().describe("one shop's cases (another merchant's shop lists nothing)"),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's cases; a merchant lists its own only"),
    appealPending: queryBoolean.optional().describe('true: an appeal is filed and waits for a decision'),
    ...pagingQuery,
  })
  .strict();
export type ViolationListQuery = z.output<typeof violationListQuery>;

export const violationListItem = z.object({
  caseId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  type: z.enum(VIOLATION_TYPES),
  reportedLevel: z.enum(VIOLATION_LEVELS),
  level: z.enum(VIOLATION_LEVELS),
  status: z.enum(SHOWN_STATUSES),
  points: z.number().int(),
  fineDeductedFen: z.number().int(),
  appealDeadline: z.string().nullable(),
  appealFiledAt: z.string().nullable(),
  appealDecision: z.enum(['upheld', 'rejected']).nullable(),
  effectEndsAt: z.string().nullable(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
});

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

const itemOf = (c: ListedViolation): z.infer<typeof violationListItem> => ({
  caseId: c.id,
  merchantId: c.merchant_id,
  shopId: c.shop_id,
  type: c.type,
  reportedLevel: c.reported_level ?? c.level,
  level: c.level,
  status: c.needs_attention ? 'needs_attention' : c.status,
  points: c.points,
  fineDeductedFen: Number(c.fine_deducted_fen),
  appealDeadline: iso(c.appeal_deadline),
  appealFiledAt: iso(c.appeal?.filedAt),
  appealDecision: c.appeal?.decision ?? null,
  effectEndsAt: iso(c.effect_ends_at),
  openedAt: new Date(c.opened_at).toISOString(),
  closedAt: iso(c.closed_at),
});

/** Violation cases, the newest first (db/repositories/violation-list.ts). */
export function createViolationListing(db: Knex) {
  const cases = createViolationList(db);
  return async ({ limit, cursor, ...requested }: ViolationListQuery, principal: Principal) => {
    const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
    return pageThrough({ list: 'violations', filters }, VIOLATION_LIST_ORDER, { cursor, limit }, (after, n) => cases.page(filters, after, n), itemOf);
  };
}
