import { z } from 'zod';
import { epochDayOf, isIsoDate, requireIsoDate } from '../../domain/civil-date';
import { LOGISTICS_EXCEPTION_KINDS } from '../../domain/fulfilment';
import { PARTNER_ORDER_PLATFORMS } from '../../domain/order-feed';
import { pagingQuery } from '../pagination';
import { shopIdParams } from '../shops/schemas';
import { merchantIdSchema } from '../verifications/schemas';

/** The longest range one rate read covers: a quarter, about 92 rows per shop. */
export const MAX_RATE_DAYS = 92;

const day = z.string().refine(isIsoDate, 'a real date as YYYY-MM-DD (Asia/Shanghai)');
// Kuaishou and partner order numbers: digits and letters with - _ . : as separators, 1–200 characters.
const orderId = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'an order id: letters, digits, _ . : - only (1–200)');

export const shopRateParams = shopIdParams;

export const shippingRateQuery = z
  .object({
    from: day.describe('first deadline day (Shanghai), inclusive'),
    to: day.describe(`last deadline day (Shanghai), inclusive; at most ${MAX_RATE_DAYS} days after from`),
  })
  .strict()
  .superRefine(({ from, to }, ctx) => {
    if (!isIsoDate(from) || !isIsoDate(to)) return;
    const days = epochDayOf(requireIsoDate(to)) - epochDayOf(requireIsoDate(from)) + 1;
    if (days < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    if (days > MAX_RATE_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${MAX_RATE_DAYS} days from from` });
  });
export type ShippingRateQuery = z.output<typeof shippingRateQuery>;

const rateCounts = {
  due: z.number().int().describe('orders whose 48-hour deadline fell on the day (refunded before it without shipping: not due)'),
  late: z.number().int().describe('of those, shipped after the deadline or not at all'),
  rateBp: z.number().int().nullable().describe('(due − late) / due in basis points, rounded down; null when nothing was due'),
};

export const shippingRate = z.object({
  shopId: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(z.object({ day: z.string(), ...rateCounts })).describe('days with orders due, oldest first'),
  total: z.object(rateCounts),
});

export const orderMappingParams = z.object({ orderId }).strict();
export const partnerOrderParams = z.object({ platform: z.enum(PARTNER_ORDER_PLATFORMS), partnerOrderId: orderId }).strict();

export const orderMapping = z.object({
  orderId: z.string().describe('the Kuaishou order'),
  merchantId: z.string(),
  shopId: z.string(),
  partnerOrder: z.object({ platform: z.enum(PARTNER_ORDER_PLATFORMS), orderId: z.string() }).nullable().describe('the partner order it mirrors, as the feed gave it'),
});

export const logisticsExceptionListQuery = z
  .object({
    shopId: shopIdParams.shape.shopId.optional(),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's; a merchant lists its own only"),
    kind: z.enum(LOGISTICS_EXCEPTION_KINDS).optional(),
    status: z.enum(['pending', 'paid', 'refused', 'covered']).optional(),
    ...pagingQuery,
  })
  .strict();
export type LogisticsExceptionListQuery = z.output<typeof logisticsExceptionListQuery>;

export const logisticsExceptionItem = z.object({
  orderId: z.string(),
  kind: z.enum(LOGISTICS_EXCEPTION_KINDS),
  merchantId: z.string(),
  shopId: z.string(),
  orderAmountFen: z.number().int(),
  compensationFen: z.number().int().describe('3% of the order, half up to the fen, 500–5,000 fen, never above the order (defaults, docs/rules.md §5.4)'),
  status: z.enum(['pending', 'paid', 'refused', 'covered']),
  compensationId: z.string().nullable().describe("the platform's id of the payment"),
  refusedReason: z.string().nullable().describe('why the platform refused to pay; not retried'),
  detectedAt: z.string(),
  settledAt: z.string().nullable(),
});
