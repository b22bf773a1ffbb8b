import { requestJson } from './json-request';
import type {
  CompensationInput,
  CompensationPaid,
  MonthlySales,
  NotificationAccepted,
  NotificationInput,
  OrderRefundAnswer,
  OrderRefundItem,
  ListingsAnswer,
  ListingsHold,
  ListingsUpsert,
  OrderFeedPage,
  PartnerLinksChange,
  PartnerLinksLive,
  Payment,
  PayoutBatchAnswer,
  PayoutBatchItem,
  PayoutInput,
  PayoutIssued,
  PlatformClient,
  PlatformClientOptions,
  ProceedsTransfer,
  ProceedsTransferInput,
  ProductsChange,
  ProductsDelisted,
  RefundInput,
  RefundIssued,
  RestrictionsChange,
  RestrictionsInForce,
  ShopOrders,
} from './types';

export type { PlatformClient, PlatformClientOptions } from './types';

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export function createPlatformClient(options: PlatformClientOptions): PlatformClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetchImpl ?? fetch;

  function request<T>(method: HttpMethod, path: string, body?: unknown, idempotencyKey?: string, notFoundAs?: T): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${options.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
    // Serialised before the call: a body that cannot be serialised is our bug, not an outage.
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return requestJson<T>({ fetchImpl, url: `${baseUrl}${path}`, method, path, headers, body: payload, timeoutMs: options.timeoutMs, notFoundAs });
  }

  return {
    notify: (input: NotificationInput, idempotencyKey: string) =>
      request<NotificationAccepted>('POST', '/v1/notifications', input, idempotencyKey),
    setRestrictions: (shopId: string, change: RestrictionsChange, idempotencyKey: string) =>
      request<RestrictionsInForce>('POST', shopPath(shopId, 'restrictions'), change, idempotencyKey),
    delistProducts: (shopId: string, change: ProductsChange, idempotencyKey: string) =>
      request<ProductsDelisted>('POST', shopPath(shopId, 'products/delist'), change, idempotencyKey),
    relistProducts: (shopId: string, change: ProductsChange, idempotencyKey: string) =>
      request<ProductsDelisted>('POST', shopPath(shopId, 'products/relist'), change, idempotencyKey),
    transferProceeds: (shopId: string, input: ProceedsTransferInput, idempotencyKey: string) =>
      request<ProceedsTransfer>('POST', shopPath(shopId, 'proceeds-transfers'), input, idempotencyKey),
    payment: (paymentId: string) =>
      request<Payment | null>('GET', `/v1/payments/${encodeURIComponent(paymentId)}`, undefined, undefined, null),
    refund: (input: RefundInput, idempotencyKey: string) =>
      request<RefundIssued>('POST', '/v1/payments/refunds', input, idempotencyKey),
    payout: (input: PayoutInput, idempotencyKey: string) =>
      request<PayoutIssued>('POST', '/v1/payments/payouts', input, idempotencyKey),
    payoutBatch: (items: PayoutBatchItem[]) =>
      request<{ payouts: PayoutBatchAnswer[] }>('POST', '/v1/payments/payouts/batch', { payouts: items }),
    orderRefundBatch: (items: OrderRefundItem[]) =>
      request<{ refunds: OrderRefundAnswer[] }>('POST', '/v1/payments/order-refunds/batch', { refunds: items }),
    compensateOrder: (orderId: string, input: CompensationInput, idempotencyKey: string) =>
      request<CompensationPaid>('POST', `/v1/orders/${encodeURIComponent(orderId)}/compensations`, input, idempotencyKey),
    monthlySales: (shopId: string, month: string) =>
      request<MonthlySales>('GET', `${shopPath(shopId, 'sales')}?month=${encodeURIComponent(month)}`),
    shopOrders: (shopId: string) => request<ShopOrders>('GET', shopPath(shopId, 'orders')),
    setPartnerLinks: (shopId: string, change: PartnerLinksChange, idempotencyKey: string) =>
      request<PartnerLinksLive>('POST', shopPath(shopId, 'partner-links'), change, idempotencyKey),
    upsertListings: (shopId: string, batch: ListingsUpsert, idempotencyKey: string) =>
      request<ListingsAnswer>('POST', shopPath(shopId, 'listings'), batch, idempotencyKey),
    holdListings: (shopId: string, change: ListingsHold, idempotencyKey: string) =>
      request<ListingsAnswer>('POST', shopPath(shopId, 'listings/hold'), change, idempotencyKey),
    orderFeed: (after: number, limit: number) =>
      request<OrderFeedPage>('GET', `/v1/orders/feed?after=${encodeURIComponent(after)}&limit=${encodeURIComponent(limit)}`),
  };
}

// Encoded, so a shop id can never step into another path or add a query.
function shopPath(shopId: string, resource: string): string {
  return `/v1/shops/${encodeURIComponent(shopId)}/${resource}`;
}
