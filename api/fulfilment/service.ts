import type { Knex } from 'knex';
import type { z } from 'zod';
import { createFulfilmentReads, LOGISTICS_EXCEPTION_LIST_ORDER, type LogisticsExceptionRow, type OrderMappingRow } from '../../db/repositories/fulfilment-reads';
import { shippingRateBp } from '../../domain/fulfilment';
import { mayActFor, type Principal } from '../auth';
import { notFound } from '../errors';
import { merchantScope } from '../list-route';
import { pageThrough } from '../pagination';
import type { logisticsExceptionItem, LogisticsExceptionListQuery, orderMapping, shippingRate, ShippingRateQuery } from './schemas';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const exceptionItem = (x: LogisticsExceptionRow): z.infer<typeof logisticsExceptionItem> => ({
  orderId: x.order_id,
  kind: x.kind as z.infer<typeof logisticsExceptionItem>['kind'],
  merchantId: x.merchant_id,
  shopId: x.shop_id,
  orderAmountFen: Number(x.order_amount_fen),
  compensationFen: Number(x.compensation_fen),
  status: x.status as z.infer<typeof logisticsExceptionItem>['status'],
  compensationId: x.compensation_id,
  refusedReason: x.refused_reason,
  detectedAt: new Date(x.detected_at).toISOString(),
  settledAt: iso(x.settled_at),
});

type Mapping = z.infer<typeof orderMapping>;

/** Fulfilment as ops and merchants read it (docs/rules.md §5.4); the scan writes, this only reads. */
export function createFulfilmentService(db: Knex) {
  const reads = createFulfilmentReads(db);

  /** Another merchant's order answers as a missing one, so order ids cannot be probed. */
  function visibleMapping(row: OrderMappingRow | undefined, principal: Principal, what: string): Mapping {
    if (!row || !mayActFor(principal, row.merchant_id)) throw notFound(`${what} is not known`);
    const partnerOrder = row.partner_platform !== null && row.partner_order_id !== null ? { platform: row.partner_platform as NonNullable<Mapping['partnerOrder']>['platform'], orderId: row.partner_order_id } : null;
    return { orderId: row.id, merchantId: row.merchant_id, shopId: row.shop_id, partnerOrder };
  }

  return {
    async shippingRate(shopId: string, { from, to }: ShippingRateQuery, principal: Principal): Promise<z.infer<typeof shippingRate>> {
      let merchantId: string | undefined;
      let foreign = false;
      if (principal.role === 'merchant') {
        // Another merchant's shop answers as one without days, exactly as an unknown shop
        // does: a 404 for the one and not the other would tell which shop ids exist.
        const owner = await reads.shopMerchant(shopId);
        foreign = owner !== undefined && owner !== principal.merchantId;
        // A shop the feed knows but the shops table does not: its own rows only.
        merchantId = principal.merchantId;
      }
      const rows = foreign ? [] : await reads.shippingDays(shopId, from, to, merchantId);
      const days = rows.map((r) => ({ day: r.day, due: r.due, late: r.late, rateBp: shippingRateBp(r.due, r.late) }));
      const due = days.reduce((n, d) => n + d.due, 0);
      const late = days.reduce((n, d) => n + d.late, 0);
      return { shopId, from, to, days, total: { due, late, rateBp: shippingRateBp(due, late) } };
    },

    async mappingOfOrder(orderId: string, principal: Principal): Promise<Mapping> {
      return visibleMapping(await reads.orderById(orderId), principal, `order ${orderId}`);
    },

    async mappingOfPartnerOrder(platform: string, partnerOrderId: string, principal: Principal): Promise<Mapping> {
      return visibleMapping(await reads.orderByPartner(platform, partnerOrderId), principal, `${platform} order ${partnerOrderId}`);
    },

    async logisticsExceptions({ limit, cursor, ...requested }: LogisticsExceptionListQuery, principal: Principal) {
      const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
      return pageThrough({ list: 'logistics-exceptions', filters }, LOGISTICS_EXCEPTION_LIST_ORDER, { cursor, limit }, (after, n) => reads.exceptionsPage(filters, after, n), exceptionItem);
    },
  };
}

export type FulfilmentService = ReturnType<typeof createFulfilmentService>;
