import { z } from 'zod';
import { isIsoDate } from '../../domain/civil-date';
import { effectiveFromProblem, MAX_RATE_BP, rateProblem } from '../../domain/fee-rates';

/** A category as the order feed names it (domain/order-feed.ts), without surrounding spaces. */
export const categorySchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^\S(.*\S)?$/, 'a category as the order feed names it, without leading or trailing spaces');

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD (Asia/Shanghai)');
const bp = (what: string) => z.number().int().min(0).max(MAX_RATE_BP).describe(`${what}, in basis points (1% = 100)`);

export const feeRateBody = z
  .object({
    category: categorySchema,
    unionFeeBp: bp("Taobao Union's technical service fee"),
    channelShareBp: bp("the platform's channel share"),
    effectiveFrom: day
      .superRefine((value, ctx) => {
        // Checked at each request: the bound moves with the clock.
        const problem = effectiveFromProblem(value, new Date());
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('the first Shanghai receipt date the rate applies to; it supersedes the previous rate from that day'),
  })
  .strict()
  .superRefine((rate, ctx) => {
    const problem = rateProblem(rate.unionFeeBp, rate.channelShareBp);
    if (problem) ctx.addIssue({ code: 'custom', path: ['channelShareBp'], message: problem });
  });
export type FeeRateBody = z.infer<typeof feeRateBody>;

export const feeRateQuery = z
  .object({
    category: categorySchema.optional(),
    at: day.refine(isIsoDate, 'not a real day').optional().describe('only the rate in force on this Shanghai day, per category'),
  })
  .strict();

export const feeRateView = z.object({
  category: z.string(),
  unionFeeBp: z.number().int(),
  channelShareBp: z.number().int(),
  effectiveFrom: z.string(),
  effectiveUntil: z.string().nullable().describe('the day the next rate takes over; null while this one is the latest'),
  createdBy: z.string(),
  createdAt: z.string(),
});

export const feeRateList = z.object({ rates: z.array(feeRateView) });

export const feeRateAdded = z.object({
  rate: feeRateView,
  resumedSettlements: z
    .array(z.object({ period: z.string(), status: z.enum(['started', 'running', 'not_started']), message: z.string().optional() }))
    .describe('settled periods whose run left merchants waiting for a rate of this category, re-run now'),
});
