import type { Knex } from 'knex';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

/** What the API reads of fulfilment (docs/rules.md §5.4): shipping days, order mappings, logistics exceptions. */

export interface ShippingDayRow {
  day: string;
  merchant_id: string;
  due: number;
  late: number;
}

export interface OrderMappingRow {
  id: string;
  merchant_id: string;
  shop_id: string;
  partner_platform: string | null;
  partner_order_id: string | null;
}

export interface LogisticsExceptionRow {
  order_id: string;
  kind: string;
  merchant_id: string;
  shop_id: string;
  order_amount_fen: number;
  compensation_fen: number;
  status: string;
  compensation_id: string | null;
  refused_reason: string | null;
  detected_at: Date;
  settled_at: Date | null;
}

export interface LogisticsExceptionFilters {
  merchantId?: string;
  shopId?: string;
  kind?: string;
  status?: string;
}

export const LOGISTICS_EXCEPTION_LIST_ORDER: readonly SortKey[] = [
  { sql: 'x.detected_at', type: 'timestamptz', direction: 'desc' },
  { sql: "x.order_id || ':' || x.kind", type: 'text', direction: 'desc' },
];

const MAPPING_COLUMNS = ['id', 'merchant_id', 'shop_id', 'partner_platform', 'partner_order_id'] as const;

export function createFulfilmentReads(db: Knex) {
  return {
    /** A shop's days in [from, to], oldest first; a merchant id narrows it to that merchant's rows. */
    async shippingDays(shopId: string, from: string, to: string, merchantId?: string): Promise<ShippingDayRow[]> {
      const q = db('shipping_days')
        .where({ shop_id: shopId })
        .andWhere('day', '>=', from)
        .andWhere('day', '<=', to)
        .orderBy('day')
        .select(db.raw(`to_char(day, 'YYYY-MM-DD') AS day`), 'merchant_id', 'due', 'late');
      if (merchantId !== undefined) void q.andWhere({ merchant_id: merchantId });
      return q;
    },

    /** The merchant a shop belongs to, as the shops table knows it (undefined for a shop it does not hold). */
    async shopMerchant(shopId: string): Promise<string | undefined> {
      const row = await db('shops').where({ id: shopId }).first<{ merchant_id: string } | undefined>('merchant_id');
      return row?.merchant_id;
    },

    async orderById(orderId: string): Promise<OrderMappingRow | undefined> {
      return db('orders').where({ id: orderId }).first<OrderMappingRow | undefined>(...MAPPING_COLUMNS);
    },

    /** The one order a partner order maps to (order_partner_ids), then that order in its month's partition. */
    async orderByPartner(platform: string, partnerOrderId: string): Promise<OrderMappingRow | undefined> {
      return db('order_partner_ids as p')
        .join('orders as o', 'o.id', 'p.order_id')
        .where({ 'p.partner_platform': platform, 'p.partner_order_id': partnerOrderId })
        .first<OrderMappingRow | undefined>(...MAPPING_COLUMNS.map((c) => `o.${c}`));
    },

    async exceptionsPage(filters: LogisticsExceptionFilters, after: Position | undefined, limit: number): Promise<KeysetPage<LogisticsExceptionRow>> {
      const q = db('logistics_exceptions as x').select('x.*');
      if (filters.merchantId !== undefined) void q.where('x.merchant_id', filters.merchantId);
      if (filters.shopId !== undefined) void q.where('x.shop_id', filters.shopId);
      if (filters.kind !== undefined) void q.where('x.kind', filters.kind);
      if (filters.status !== undefined) void q.where('x.status', filters.status);
      return keysetPage<LogisticsExceptionRow>(db, q, LOGISTICS_EXCEPTION_LIST_ORDER, after, limit);
    },
  };
}
