import type { Knex } from 'knex';
import { z } from 'zod';
import { createSettlementLists, RUN_LIST_ORDER, STATEMENT_LIST_ORDER, type ListedRun } from '../../db/repositories/settlement/lists';
import { toTotals, type Statement } from '../../db/repositories/settlement/records';
import type { Principal } from '../auth';
import { merchantScope } from '../list-route';
import { pageThrough, pagingQuery } from '../pagination';
import { merchantIdSchema } from '../verifications/schemas';
import { periodSchema, type statementSchema } from './schemas';

const RUN_STATUSES = ['running', 'completed', 'failed'] as const;

export const runListQuery = z.object({ status: z.enum(RUN_STATUSES).optional(), ...pagingQuery }).strict();
export type RunListQuery = z.output<typeof runListQuery>;

export const runListItem = z.object({
  period: z.string(),
  status: z.enum(RUN_STATUSES),
  merchantsTotal: z.number().int().nullable(),
  merchantsDone: z.number().int(),
  failureCount: z.number().int().describe('merchants left without a statement: a category with no fee rate (GET /v1/settlements/{period} names them)'),
  totals: z.record(z.string(), z.number()).describe('the totals the run stored at its last step; GET /v1/settlements/{period} sums the statements afresh'),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
});

export const statementListQuery = z
  .object({
    period: periodSchema.optional(),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's statements; a merchant lists its own only"),
    status: z.enum(['payable', 'carried', 'paid']).optional(),
    kind: z.enum(['monthly', 'final']).optional().describe("final: a closing shop's statement"),
    ...pagingQuery,
  })
  .strict();
export type StatementListQuery = z.output<typeof statementListQuery>;

const runItemOf = (r: ListedRun): z.infer<typeof runListItem> => {
  const { statements, lineCount, payableCount, ...money } = toTotals(r.totals);
  return {
    period: r.period,
    status: r.status,
    merchantsTotal: r.merchants_total,
    merchantsDone: r.merchants_done,
    failureCount: Number(r.failure_count),
    totals: { statements, lineCount, payableCount, ...money },
    startedAt: new Date(r.started_at).toISOString(),
    completedAt: r.completed_at ? new Date(r.completed_at).toISOString() : null,
  };
};

const statementItemOf = ({ payoutId: _payoutId, createdAt: _createdAt, ...figures }: Statement): z.infer<typeof statementSchema> => figures;

/**
 * Settlement runs (one per period, finance's view) and statements (one per merchant and
 * period; a merchant reads its own): two lists of db/repositories/settlement/lists.ts.
 */
export function createSettlementListing(db: Knex) {
  const lists = createSettlementLists(db);
  return {
    runs: async ({ limit, cursor, ...filters }: RunListQuery) =>
      pageThrough({ list: 'settlement-runs', filters }, RUN_LIST_ORDER, { cursor, limit }, (after, n) => lists.runs(filters, after, n), runItemOf),

    statements: async ({ limit, cursor, ...requested }: StatementListQuery, principal: Principal) => {
      const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
      return pageThrough({ list: 'statements', filters }, STATEMENT_LIST_ORDER, { cursor, limit }, (after, n) => lists.statements(filters, after, n), statementItemOf);
    },
  };
}
