import { z } from 'zod';
import { settlementMonthProblem, settlementPeriodProblem } from '../../domain/settlement';
import { errorBody } from '../openapi';

/**
 * A month merchant-ops can settle (settlementPeriodProblem): from the first period to the
 * current month, Shanghai time. Checked at each request, so the bound moves with the clock.
 */
export const periodSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
  .superRefine((period, ctx) => {
    const problem = settlementPeriodProblem(period, new Date());
    if (problem) ctx.addIssue({ code: 'custom', message: `period ${problem}` });
  });

/**
 * A month a run could ever settle (settlementMonthProblem). Whether it has ended is the
 * route's 409, not a 400: the request is well formed, only early (periodNotEndedUntil).
 */
export const runPeriodSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
  .superRefine((period, ctx) => {
    const problem = settlementMonthProblem(period);
    if (problem) ctx.addIssue({ code: 'custom', message: `period ${problem}` });
  });

export const runSettlementBody = z.object({ period: runPeriodSchema }).strict();
export const periodParams = z.object({ period: periodSchema }).strict();
export const merchantParams = z.object({ merchantId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a merchant id') }).strict();

export const settlementStarted = z.object({ period: z.string(), workflowId: z.string(), status: z.enum(['started', 'running']) });

export const settlementProgress = z.object({
  period: z.string(),
  status: z.string(),
  merchantsTotal: z.number().int().nullable(),
  merchantsDone: z.number().int(),
  totals: z.record(z.string(), z.number()),
  failures: z.array(z.unknown()),
  missingRates: z
    .array(z.object({ category: z.string(), merchantIds: z.array(z.string()) }))
    .describe('merchants the run left without a statement, by the category that has no rate on their lines; adding the rate (POST /v1/fee-rates) re-runs the period'),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
});

export const statementSchema = z.object({
  merchantId: z.string(),
  period: z.string(),
  gmvFen: z.number().int(),
  unionFeeFen: z.number().int(),
  channelFeeFen: z.number().int(),
  refundsFen: z.number().int(),
  carriedInFen: z.number().int(),
  forfeitedFen: z.number().int(),
  netFen: z.number().int(),
  payoutFen: z.number().int(),
  carriedOutFen: z.number().int(),
  /** A final statement's negative net, deducted from the deposit of the closing shop. */
  owedFen: z.number().int(),
  kind: z.enum(['monthly', 'final']),
  lineCount: z.number().int(),
  status: z.string(),
});

/** 409 of a run asked for before its period ended: the earliest day it may run, Shanghai time. */
export const periodNotEndedBody = errorBody.extend({
  code: z.literal('period_not_ended'),
  earliestRunDate: z.string().regex(/^\d{4,5}-\d{2}-01$/),
  timeZone: z.literal('Asia/Shanghai'),
});
