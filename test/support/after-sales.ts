import type { Knex } from 'knex';

/** An order as the feed would have delivered it, for after-sales tests. */
export async function addOrder(
  db: Knex,
  o: { id: string; merchantId: string; category: string; status?: 'paid' | 'receipt_confirmed' | 'refunded'; receiptConfirmedAt?: Date | null; shopId?: string },
): Promise<void> {
  const status = o.status ?? 'receipt_confirmed';
  await db('orders').insert({
    id: o.id,
    merchant_id: o.merchantId,
    shop_id: o.shopId ?? `shop-${o.merchantId}`,
    category: o.category,
    amount_fen: 9_900,
    status,
    paid_at: new Date(Date.UTC(2026, 0, 1)),
    receipt_confirmed_at: status === 'paid' ? null : (o.receiptConfirmedAt ?? new Date()),
    refunded_at: status === 'refunded' ? new Date() : null,
  });
}
