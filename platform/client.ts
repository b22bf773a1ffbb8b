import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors';
import type {
  MonthlySales,
  NotificationAccepted,
  NotificationInput,
  OrderFeedPage,
  Payment,
  PayoutBatchAnswer,
  PayoutBatchItem,
  PayoutInput,
  PayoutIssued,
  PlatformClient,
  PlatformClientOptions,
  PlatformRejectionDetails,
  PlatformUnavailableDetails,
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

// 408 and 429 say "not now", not "never": the same request may succeed later.
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

export function createPlatformClient(options: PlatformClientOptions): PlatformClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetchImpl ?? fetch;

  // Failure messages name method, path and status only: request bodies may hold
  // personal data and messages end up in Temporal history and logs.
  async function request<T>(method: HttpMethod, path: string, body?: unknown, idempotencyKey?: string, notFoundAs?: T): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${options.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;

    // Outside the try below: a body that cannot be serialised is our bug, not an outage.
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let status: number;
    let text: string;
    try {
      const response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers,
        body: payload,
        // The timeout also covers reading the body, hence one try around both.
        signal: AbortSignal.timeout(options.timeoutMs),
        // A JSON API has no business redirecting us; surface it instead of following.
        redirect: 'manual',
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      const reason = describeTransportError(err, options.timeoutMs);
      throw ApplicationFailure.retryable(`${method} ${path} ${reason}`, ErrorType.PlatformUnavailable);
    }

    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      if (parsed.ok) return parsed.value as T;
      // The platform did act; a retry with the same idempotency key replays a readable answer.
      const unavailable: PlatformUnavailableDetails = { status };
      throw ApplicationFailure.retryable(
        `${method} ${path} returned ${status} with a body that is not JSON`,
        ErrorType.PlatformUnavailable,
        unavailable,
      );
    }
    if (status === 404 && notFoundAs !== undefined) return notFoundAs;
    const responseBody = parsed.ok ? parsed.value : text;
    const message = `${method} ${path} failed with ${status}${errorCodeSuffix(responseBody)}`;
    if (status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status)) {
      const unavailable: PlatformUnavailableDetails = { status };
      throw ApplicationFailure.retryable(message, ErrorType.PlatformUnavailable, unavailable);
    }
    const rejection: PlatformRejectionDetails = { status, body: responseBody };
    throw ApplicationFailure.nonRetryable(message, ErrorType.PlatformRejected, rejection);
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
    monthlySales: (shopId: string, month: string) =>
      request<MonthlySales>('GET', `${shopPath(shopId, 'sales')}?month=${encodeURIComponent(month)}`),
    shopOrders: (shopId: string) => request<ShopOrders>('GET', shopPath(shopId, 'orders')),
    orderFeed: (after: number, limit: number) =>
      request<OrderFeedPage>('GET', `/v1/orders/feed?after=${encodeURIComponent(after)}&limit=${encodeURIComponent(limit)}`),
  };
}

// Encoded, so a shop id can never step into another path or add a query.
function shopPath(shopId: string, resource: string): string {
  return `/v1/shops/${encodeURIComponent(shopId)}/${resource}`;
}

// Duck-typed, not `instanceof Error`: fetch's errors can come from another realm
// (jest's node environment is one), where that check silently fails.
function describeTransportError(err: unknown, timeoutMs: number): string {
  const { name, message, cause } = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
  };
  if (name === 'TimeoutError' || name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  // undici says "fetch failed" and puts the useful part (ECONNREFUSED, ...) in `cause`.
  const code = typeof cause === 'object' && cause !== null ? cause.code : undefined;
  if (typeof code === 'string') return `failed before a response: ${code}`;
  return `failed before a response: ${typeof message === 'string' ? message : String(err)}`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  // An empty body (e.g. 204) is a valid answer with nothing in it.
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

// Only a machine-readable code (e.g. `idempotency_key_reused`) goes into the message;
// free text from the platform could echo what we sent.
function errorCodeSuffix(body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body) {
    const code = body.error;
    if (typeof code === 'string' && /^[a-z0-9_]{1,64}$/.test(code)) return ` (${code})`;
  }
  return '';
}
