import type { Knex } from 'knex';
import type { FeedOrder } from '../../platform/types';
import type { SandboxState } from '../../platform/sandbox/state';

export interface EnforcedShop {
  shopId: string;
  merchantId: string;
}

/**
 * A shop with `orders` consumer orders, written set-based (generate_series): amounts
 * 10.00–2,009.99 CNY, every tenth paid but not received, every fiftieth already refunded by
 * its consumer (the action leaves it alone). Ids `eo-<shop>-0000001`… sort in insertion order.
 * `at` fixes when they were paid and received (an order's payment time never changes once written).
 */
export async function seedEnforcedShop(db: Knex, shop: EnforcedShop, orders: number, at?: { paidAt: string; receivedAt: string }): Promise<void> {
  await db('merchants').insert({ id: shop.merchantId, entity_type: 'enterprise', legal_name: `Merchant ${shop.merchantId}`, verification_status: 'approved' }).onConflict('id').ignore();
  await db('shops').insert({ id: shop.shopId, merchant_id: shop.merchantId, shop_type: 'flagship', status: 'open', opened_by_case_id: `case-${shop.merchantId}` }).onConflict('id').ignore();
  await db.raw(
    `INSERT INTO orders (id, merchant_id, shop_id, category, amount_fen, status, paid_at, receipt_confirmed_at, refunded_at)
     SELECT 'eo-' || :shop || '-' || lpad(g::text, 7, '0'), :merchant, :shop, 'apparel', 1000 + (g * 7919) % 200000,
            CASE WHEN g % 50 = 0 THEN 'refunded' WHEN g % 10 = 0 THEN 'paid' ELSE 'receipt_confirmed' END,
            COALESCE(CAST(:paidAt AS timestamptz), date_trunc('milliseconds', now()) - interval '20 days'),
            CASE WHEN g % 10 = 0 AND g % 50 <> 0 THEN NULL ELSE COALESCE(CAST(:receivedAt AS timestamptz), date_trunc('milliseconds', now()) - interval '12 days') END,
            CASE WHEN g % 50 = 0 THEN date_trunc('milliseconds', now()) - interval '5 days' END
       FROM generate_series(1, :orders) AS g`,
    { shop: shop.shopId, merchant: shop.merchantId, orders, paidAt: at?.paidAt ?? null, receivedAt: at?.receivedAt ?? null },
  );
}

/** The shop's orders as the platform's order feed carries them. */
export async function feedOrdersOf(db: Knex, shopId: string): Promise<FeedOrder[]> {
  const rows = (await db('orders').where({ shop_id: shopId }).orderBy('id')) as Array<{
    id: string;
    merchant_id: string;
    shop_id: string;
    category: string;
    amount_fen: number | string;
    status: FeedOrder['status'];
    paid_at: Date;
    receipt_confirmed_at: Date | null;
    refunded_at: Date | null;
  }>;
  return rows.map((o) => ({
    orderId: o.id,
    merchantId: o.merchant_id,
    shopId: o.shop_id,
    category: o.category,
    amountFen: Number(o.amount_fen),
    status: o.status,
    paidAt: o.paid_at.toISOString(),
    receiptConfirmedAt: o.receipt_confirmed_at ? o.receipt_confirmed_at.toISOString() : null,
    refundedAt: o.refunded_at ? o.refunded_at.toISOString() : null,
  }));
}

/** Puts orders on the sandbox's order feed, as the platform knows them. */
export function onPlatformFeed(state: SandboxState, orders: readonly FeedOrder[]): void {
  for (const order of orders) state.orderFeed.push({ seq: state.orderFeed.length + 1, order });
}

/** Refunds the platform made per idempotency key of the shop's orders: each must be 1. */
export function platformRefundsByOrder(state: SandboxState, shopId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const refund of state.orderRefunds.values()) {
    if (refund.shopId === shopId) counts.set(refund.orderId, (counts.get(refund.orderId) ?? 0) + 1);
  }
  return counts;
}
