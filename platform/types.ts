/**
 * Types of the platform API as our code sees it. Kept free of runtime imports so
 * activities (and workflow `.defs.ts` files) can `import type` them.
 */
import type { FeedOrder } from '../domain/order-feed';
import type { PartnerPlatform } from './partners/types';

export type NotificationRecipient = 'supervisor' | 'merchant' | 'ops' | 'streamer';

export interface NotificationInput {
  recipient: NotificationRecipient;
  /** The merchant the notice is for, or about (a streamer is warned about selling this merchant's goods). */
  merchantId: string;
  /** The streamer (主播) a `streamer` notice goes to, by the platform's id; only for that recipient. */
  streamerId?: string;
  template: string;
  data?: Record<string, unknown>;
}

export interface NotificationAccepted {
  notificationId: string;
  /** ISO-8601 instant at which the platform accepted the notification. */
  acceptedAt: string;
}

/**
 * The shop functions the platform can switch off. The first four are the deposit ladder's
 * (docs/rules.md §2); `disable_api` closes the shop's open-API permission (a qualification
 * mismatch) and `bar_big_promotions` keeps the shop out of big promotions, 大促 (a price
 * violation): both are penalties of the violations process. `disable_third_party_promotion`
 * switches off selling other platforms' products (the merchant closed third-party promotion).
 */
export type Restriction =
  | 'close_cart'
  | 'stop_listing'
  | 'stop_sales'
  | 'restrict_withdrawals'
  | 'disable_api'
  | 'bar_big_promotions'
  | 'disable_third_party_promotion';

export interface RestrictionsChange {
  /** `apply` adds to the restrictions in force, `lift` removes; either way they form a set. */
  action: 'apply' | 'lift';
  restrictions: Restriction[];
  reason: string;
}

export interface RestrictionsInForce {
  shopId: string;
  inForce: Restriction[];
}

/** Takes products off sale (delist) or puts them back (relist); either way the delisted ids form a set. */
export interface ProductsChange {
  /** 1 to 200 ids per call (more is refused with 400), so a larger set goes in several calls, each with its own key. */
  productIds: string[];
  reason: string;
}

export interface ProductsDelisted {
  /** Every product of the shop delisted after the call, sorted. */
  delisted: string[];
}

export interface ProceedsTransferInput {
  /** Upper bound: the platform moves what sales proceeds are available, up to this. */
  maxAmountFen: number;
  purpose: string;
}

export interface ProceedsTransfer {
  transferId: string;
  /** `min(maxAmountFen, available proceeds)`; 0 when the shop has none. */
  transferredFen: number;
}

export type DepositAccount = 'deposit' | 'promotion_deposit';

export interface RefundInput {
  shopId: string;
  account: DepositAccount;
  amountFen: number;
  reference: string;
  /**
   * The payment the money came from: a refund goes back to its payer account and never
   * exceeds what it paid in and has not had back. Absent only for a refund recorded before
   * payments were (the platform then pays the shop's account on file).
   */
  paymentId?: string;
  payerAccount?: string;
}

export interface RefundIssued {
  refundId: string;
  amountFen: number;
}

export type PaymentStatus = 'pending' | 'confirmed' | 'failed';

/**
 * A payment into a shop's deposit through the platform's payment API. The platform moves
 * it from pending to confirmed (or failed) and tells us through a signed callback.
 */
export interface Payment {
  paymentId: string;
  shopId: string;
  account: DepositAccount;
  amountFen: number;
  /** Where the money came from, and where a refund of it goes back. */
  payerAccount: string;
  status: PaymentStatus;
  /** ISO-8601 instants. */
  createdAt: string;
  confirmedAt: string | null;
  /** What the platform has refunded of it so far. */
  refundedFen: number;
}

export interface PayoutInput {
  merchantId: string;
  /** The settlement period, `YYYY-MM`. */
  period: string;
  amountFen: number;
}

export interface PayoutIssued {
  payoutId: string;
  amountFen: number;
}

export interface PayoutBatchItem extends PayoutInput {
  idempotencyKey: string;
}

export interface PayoutBatchAnswer extends PayoutIssued {
  idempotencyKey: string;
  replayed: boolean;
}

/** One consumer order refunded through the platform (an enforcement action's mass refund). */
export interface OrderRefundItem {
  /** `order-refund:<orderId>`: the platform refunds an order once under it, however often asked. */
  idempotencyKey: string;
  orderId: string;
  shopId: string;
  amountFen: number;
  reason: string;
}

/** Why the platform refused an order's refund; final: the same item is refused again. */
export type OrderRefundRefusal = 'order_unknown' | 'order_not_of_shop' | 'amount_exceeds_order' | 'order_already_refunded';

export type OrderRefundAnswer =
  | { idempotencyKey: string; orderId: string; outcome: 'refunded'; refundId: string; amountFen: number; refundedAt: string; replayed: boolean }
  | { idempotencyKey: string; orderId: string; outcome: 'refused'; reason: OrderRefundRefusal };

/** A logistics exception the platform compensates the buyer for, out of the shop's proceeds (docs/rules.md §5.4). */
export interface CompensationInput {
  shopId: string;
  kind: 'no_tracking' | 'lost' | 'damaged';
  amountFen: number;
  reason: string;
}

export interface CompensationPaid {
  compensationId: string;
  orderId: string;
  amountFen: number;
}

export interface MonthlySales {
  shopId: string;
  /** `YYYY-MM`. */
  month: string;
  gmvFen: number;
  /** GMV per product category, in fen. */
  byCategory: Record<string, number>;
}

export interface ShopOrder {
  orderId: string;
  status: 'open' | 'finished';
  /** ISO-8601 instant the buyer confirmed receipt; starts the after-sales window. */
  receiptConfirmedAt: string | null;
}

export interface ShopOrders {
  orders: ShopOrder[];
}

// The feed's order shape is a domain fact (domain/order-feed.ts checks it); the platform carries it.
export type { FeedOrder, FeedOrderStatus } from '../domain/order-feed';

export interface OrderFeedEvent {
  /** Position in the feed; strictly increasing, never reused. */
  seq: number;
  order: FeedOrder;
}

export interface OrderFeedPage {
  events: OrderFeedEvent[];
  /** The seq to read after next: the page's last event's, or `after` itself when the page is empty. */
  lastSeq: number;
  hasMore: boolean;
}

/**
 * Every mutating method takes an `idempotencyKey` that must come from the business request
 * (e.g. `notify:<merchant>:<case>`, `refund:<shop>:<account>`), so a retried activity replays
 * the first call instead of acting twice. Reads carry no key.
 */
export interface PlatformClient {
  notify(input: NotificationInput, idempotencyKey: string): Promise<NotificationAccepted>;
  setRestrictions(shopId: string, change: RestrictionsChange, idempotencyKey: string): Promise<RestrictionsInForce>;
  /** Takes products off sale, e.g. the products a violation penalty names. */
  delistProducts(shopId: string, change: ProductsChange, idempotencyKey: string): Promise<ProductsDelisted>;
  /** Relisting a product that is not delisted changes nothing and is not an error. */
  relistProducts(shopId: string, change: ProductsChange, idempotencyKey: string): Promise<ProductsDelisted>;
  transferProceeds(shopId: string, input: ProceedsTransferInput, idempotencyKey: string): Promise<ProceedsTransfer>;
  /** The payment with this id, or null when the platform knows none. */
  payment(paymentId: string): Promise<Payment | null>;
  /** Pays out of a deposit account back to a payment's payer; the key makes it happen exactly once. */
  refund(input: RefundInput, idempotencyKey: string): Promise<RefundIssued>;
  /** Pays a merchant its settled commission; keyed `settle:<merchant>:<period>`. */
  payout(input: PayoutInput, idempotencyKey: string): Promise<PayoutIssued>;
  /** Many payouts in one call, each idempotent on its own key. */
  payoutBatch(items: PayoutBatchItem[]): Promise<{ payouts: PayoutBatchAnswer[] }>;
  /** Refunds consumer orders, 1 to 1,000 per call, each once under its own key; refusals come back per item. */
  orderRefundBatch(items: OrderRefundItem[]): Promise<{ refunds: OrderRefundAnswer[] }>;
  /**
   * Compensates an order's buyer for a logistics exception; keyed `compensation:<orderId>:<kind>`.
   * Refused (409) for an order the platform does not know, of another shop, not shipped, an amount
   * above the order's, or an order and kind already compensated under another key.
   */
  compensateOrder(orderId: string, input: CompensationInput, idempotencyKey: string): Promise<CompensationPaid>;
  /** `month` is `YYYY-MM`; a month without sales answers 0 and `{}`. */
  monthlySales(shopId: string, month: string): Promise<MonthlySales>;
  shopOrders(shopId: string): Promise<ShopOrders>;
  /** Up to `limit` events of the order feed with a seq above `after`, oldest first. */
  orderFeed(after: number, limit: number): Promise<OrderFeedPage>;
  /**
   * Puts a bound store's outside product links live on the Kuaishou shop, or takes them down
   * (link windows, docs/rules.md §5.2). Either way the live links form a set: publishing a
   * live link or taking down one that is down changes nothing.
   */
  setPartnerLinks(shopId: string, change: PartnerLinksChange, idempotencyKey: string): Promise<PartnerLinksLive>;
  /**
   * Lists or updates products of a bound store on the Kuaishou shop (catalogue sync), 1 to 200 per
   * call; a listing keeps the link back to the partner's detail page. Upserting the same listing
   * again changes nothing.
   */
  upsertListings(shopId: string, batch: ListingsUpsert, idempotencyKey: string): Promise<ListingsAnswer>;
  /** Holds listings off sale (a risk flag) or releases them; held ids form a set. */
  holdListings(shopId: string, change: ListingsHold, idempotencyKey: string): Promise<ListingsAnswer>;
}

/** A product as the Kuaishou shop lists it. */
export interface KuaishouListing {
  productId: string;
  title: string;
  /** The Kuaishou category the partner's category maps to. */
  category: string;
  priceFen: number;
  inventory: number;
  mainImageUrl: string;
  /** The partner's detail page: the listing links back to it. */
  detailUrl: string;
  presaleLabel: string | null;
  promoTags: string[];
}

export interface ListingsUpsert {
  partner: PartnerPlatform;
  storeId: string;
  listings: KuaishouListing[];
}

export interface ListingsHold {
  action: 'hold' | 'release';
  partner: PartnerPlatform;
  storeId: string;
  productIds: string[];
  reason: string;
}

export interface ListingsAnswer {
  /** How many listings the call changed (0 for a replay of the same content). */
  changed: number;
}

/** 1 to 200 links per call, like products. */
export interface PartnerLinksChange {
  action: 'publish' | 'take_down';
  /** The partner platform and the bound store the links point into. */
  partner: PartnerPlatform;
  storeId: string;
  /** What kind of link (docs/rules.md §5.2), e.g. `union_product` or `self_operated`. */
  linkKind: string;
  linkIds: string[];
  reason: string;
}

export interface PartnerLinksLive {
  /** Every link of the shop live after the call, sorted. */
  live: string[];
}

export interface PlatformClientOptions {
  baseUrl: string;
  token: string;
  /** Per request, covering connect, response and body; a timeout is retryable. */
  timeoutMs: number;
  fetchImpl?: typeof fetch;
}

/** `details[0]` of a `PlatformRejected` failure. */
export interface PlatformRejectionDetails {
  status: number;
  body: unknown;
}

/** `details[0]` of a `PlatformUnavailable` failure caused by an HTTP status (absent for network errors). */
export interface PlatformUnavailableDetails {
  status: number;
}
