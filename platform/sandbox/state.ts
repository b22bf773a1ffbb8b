import type { DepositAccount, KuaishouListing, NotificationInput, PartnerLinksChange, Payment, OrderFeedEvent, PayoutInput, PayoutIssued, ProductsChange, Restriction, RestrictionsChange, ShopOrder } from '../types';
import type { PartnerPlatform, PartnerProduct, PartnerStoreInfo, PermissionLevel } from '../partners/types';
import type { IdempotencyStore } from './idempotency';

export interface SandboxSettings {
  latencyMs: number;
  errorRate: number;
}

/** One request the sandbox platform received, as `GET /v1/calls` shows it. */
export interface CallRecord {
  seq: number;
  /** ISO-8601 instant the request arrived. */
  at: string;
  method: string;
  path: string;
  idempotencyKey: string | null;
  body: unknown;
  status: number;
  replayed: boolean;
}

export interface SandboxNotification extends NotificationInput {
  notificationId: string;
  acceptedAt: string;
}

export interface SandboxRestrictionChange extends RestrictionsChange {
  at: string;
}

export interface SandboxProductsChange extends ProductsChange {
  action: 'delist' | 'relist';
  at: string;
}

export interface SandboxPartnerLinksChange extends PartnerLinksChange {
  /** The links this call actually put live or took down (the rest already were). */
  changed: string[];
  at: string;
}

export interface SandboxProceedsTransfer {
  transferId: string;
  maxAmountFen: number;
  transferredFen: number;
  purpose: string;
  at: string;
}

export interface SandboxRefund {
  refundId: string;
  account: DepositAccount;
  amountFen: number;
  reference: string;
  /** The payment refunded, and the account the money went back to. */
  paymentId?: string;
  payerAccount?: string;
  at: string;
}

/** A consumer order refunded by the platform, once per idempotency key. */
export interface SandboxOrderRefund {
  refundId: string;
  orderId: string;
  shopId: string;
  amountFen: number;
  reason: string;
  at: string;
}

/** A logistics compensation the platform paid to an order's buyer, once per order and kind. */
export interface SandboxCompensation {
  compensationId: string;
  orderId: string;
  shopId: string;
  kind: string;
  amountFen: number;
  reason: string;
  at: string;
}

/** One delivery of a payment callback to the configured URL. */
export interface SandboxCallbackDelivery {
  at: string;
  status: PaymentStatusForCallback;
  /** The HTTP status our API answered, or null when it could not be reached. */
  answeredWith: number | null;
}

type PaymentStatusForCallback = Payment['status'];

export interface SandboxPayment extends Payment {
  callbacks: SandboxCallbackDelivery[];
}

/** `YYYY-MM` -> category -> GMV in fen. */
export type MonthlySalesFixture = Record<string, Record<string, number>>;

/**
 * One shop as the platform sees it. Proceeds, sales and orders are fixtures that tests
 * and dev set through `PUT /v1/_shops/:shopId`; the rest is what platform calls did.
 */
export interface SandboxShop {
  availableProceedsFen: number;
  monthlySales: MonthlySalesFixture;
  orders: ShopOrder[];
  restrictions: Set<Restriction>;
  restrictionChanges: SandboxRestrictionChange[];
  delistedProducts: Set<string>;
  productChanges: SandboxProductsChange[];
  /** Outside product links live on the shop (link windows). */
  partnerLinks: Set<string>;
  partnerLinkChanges: SandboxPartnerLinksChange[];
  proceedsTransfers: SandboxProceedsTransfer[];
  refunds: SandboxRefund[];
}

/** Everything the sandbox remembers; exposed so tests can look behind the HTTP API. */
export interface SandboxState {
  settings: SandboxSettings;
  calls: CallRecord[];
  nextCallSeq: number;
  idempotency: IdempotencyStore;
  notifications: SandboxNotification[];
  shops: Map<string, SandboxShop>;
  payouts: Array<PayoutInput & PayoutIssued & { at: string }>;
  /** Batch payout items by their own idempotency key. */
  payoutsByKey: Map<string, PayoutIssued>;
  /** Consumer order refunds (enforcement mass refunds) by their own idempotency key, `order-refund:<orderId>`. */
  orderRefunds: Map<string, SandboxOrderRefund>;
  /** The order feed, appended through `POST /v1/_orders`; event `seq` is its index + 1. */
  orderFeed: OrderFeedEvent[];
  /** Logistics compensations paid (fulfilment), in the order they were paid. */
  compensations: SandboxCompensation[];
  /** Payments into deposits, by id; made through `POST /v1/_payments` (a test or dev "pays"). */
  payments: Map<string, SandboxPayment>;
  /** The partner platforms' world (stores, union authorisations, Youzan grants) under /partners. */
  partners: SandboxPartners;
  /** Kuaishou listings of bound stores' products, by shop id. */
  listings: Map<string, ShopListings>;
  /**
   * Catalogues and listings that changed since the last save, by `bulkPartName`: the store writes
   * them apart from the main state file, so a million products are not rewritten on every call.
   */
  dirtyBulk: Set<string>;
}

/** A listing as the shop keeps it: the listing and the bound store it came from. */
export interface SandboxListing extends KuaishouListing {
  partner: PartnerPlatform;
  storeId: string;
}

/** One shop's listings, each keyed by `listingKey` (a product id is unique within its store only). */
export interface ShopListings {
  listings: Map<string, SandboxListing>;
  /** Held listings and the reason given. */
  held: Map<string, string>;
  /** Times each listing was sent in an upsert the platform ran (replays excluded), and times it changed. */
  upserts: Map<string, number>;
  changes: Map<string, number>;
  /** Keys changed since the last save, and lines in the shop's file: saving appends, not rewrites. */
  unsaved: Set<string>;
  savedLines: number;
}

export function listingKey(partner: PartnerPlatform, storeId: string, productId: string): string {
  return `${partner}:${storeId}:${productId}`;
}

/** A store's catalogue: products by id, and the ids in order once a read needed them. */
export interface PartnerCatalogue {
  products: Map<string, PartnerProduct>;
  sortedIds: string[] | null;
}

export type BulkPart = { kind: 'catalogue'; storeKey: string } | { kind: 'listings'; shopId: string };

export function bulkPartName(part: BulkPart): string {
  return part.kind === 'catalogue' ? `catalogue:${part.storeKey}` : `listings:${part.shopId}`;
}

export function parseBulkPartName(name: string): BulkPart | undefined {
  if (name.startsWith('catalogue:')) return { kind: 'catalogue', storeKey: name.slice('catalogue:'.length) };
  if (name.startsWith('listings:')) return { kind: 'listings', shopId: name.slice('listings:'.length) };
  return undefined;
}

/** Taobao Union's record of a PID the merchant authorised, as the merchant did it on the union's side. */
export interface SandboxUnionAuthorisation {
  platform: 'taobao' | 'tmall';
  storeId: string;
  pid: string;
  account: 'main' | 'sub';
  positionType: 'content_scene' | 'other';
}

/** Seconds each Youzan credential lives; settable so tests can see expiry. */
export interface YouzanLifetimes {
  codeSeconds: number;
  accessSeconds: number;
  refreshSeconds: number;
}

/** An authorisation code the merchant's consent produced; kept by its digest, used once. */
export interface YouzanCode {
  clientId: string;
  redirectUri: string;
  storeId: string;
  level: PermissionLevel;
  expiresAt: number;
}

/** A token of a grant, kept by its digest: the state file holds no usable token. */
export interface YouzanToken {
  grantId: string;
  expiresAt: number;
}

export interface YouzanGrant {
  clientId: string;
  storeId: string;
  level: PermissionLevel;
}

export interface SandboxPartners {
  /** By `partnerStoreKey(platform, storeId)`. */
  stores: Map<string, PartnerStoreInfo>;
  /** Each store's products, by `partnerStoreKey(platform, storeId)`. */
  catalogues: Map<string, PartnerCatalogue>;
  unionAuthorisations: SandboxUnionAuthorisation[];
  /** `storeId` -> JD union ids the store authorised. */
  jdAuthorisations: Map<string, string[]>;
  /** `storeId` -> Pinduoduo PIDs the store authorised. */
  pinduoduoAuthorisations: Map<string, string[]>;
  youzan: {
    lifetimes: YouzanLifetimes;
    codes: Map<string, YouzanCode>;
    /** Codes already exchanged, until they would have expired: a second use ends the grant they gave. */
    usedCodes: Map<string, YouzanToken>;
    grants: Map<string, YouzanGrant>;
    accessTokens: Map<string, YouzanToken>;
    refreshTokens: Map<string, YouzanToken>;
  };
}

// [default] docs/rules.md §5.1: access 7 days, refresh 28 days; a code lives 10 minutes (RFC 6749 §4.1.2).
export const DEFAULT_YOUZAN_LIFETIMES: YouzanLifetimes = { codeSeconds: 600, accessSeconds: 7 * 86_400, refreshSeconds: 28 * 86_400 };

export function partnerStoreKey(platform: PartnerPlatform, storeId: string): string {
  return `${platform}:${storeId}`;
}

export function createPartnersState(): SandboxPartners {
  return {
    stores: new Map(),
    catalogues: new Map(),
    unionAuthorisations: [],
    jdAuthorisations: new Map(),
    pinduoduoAuthorisations: new Map(),
    youzan: { lifetimes: { ...DEFAULT_YOUZAN_LIFETIMES }, codes: new Map(), usedCodes: new Map(), grants: new Map(), accessTokens: new Map(), refreshTokens: new Map() },
  };
}

export function createSandboxState(settings: SandboxSettings): SandboxState {
  return { settings: { ...settings }, calls: [], nextCallSeq: 1, idempotency: new Map(), notifications: [], shops: new Map(), payouts: [], payoutsByKey: new Map(), orderRefunds: new Map(), orderFeed: [], compensations: [], payments: new Map(), partners: createPartnersState(), listings: new Map(), dirtyBulk: new Set() };
}

/** The shop's state, created empty on first write: the sandbox knows every shop id. */
export function shopForUpdate(state: SandboxState, shopId: string): SandboxShop {
  let shop = state.shops.get(shopId);
  if (!shop) {
    shop = emptyShop();
    state.shops.set(shopId, shop);
  }
  return shop;
}

/** The shop's state for reading; an unknown shop reads as empty and stays unknown. */
export function shopForRead(state: SandboxState, shopId: string): SandboxShop {
  return state.shops.get(shopId) ?? emptyShop();
}

function emptyShop(): SandboxShop {
  return {
    availableProceedsFen: 0,
    monthlySales: {},
    orders: [],
    restrictions: new Set(),
    restrictionChanges: [],
    delistedProducts: new Set(),
    productChanges: [],
    partnerLinks: new Set(),
    partnerLinkChanges: [],
    proceedsTransfers: [],
    refunds: [],
  };
}
