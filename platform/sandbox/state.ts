import type { DepositAccount, NotificationInput, Payment, OrderFeedEvent, PayoutInput, PayoutIssued, ProductsChange, Restriction, RestrictionsChange, ShopOrder } from '../types';
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
  /** The order feed, appended through `POST /v1/_orders`; event `seq` is its index + 1. */
  orderFeed: OrderFeedEvent[];
  /** Payments into deposits, by id; made through `POST /v1/_payments` (a test or dev "pays"). */
  payments: Map<string, SandboxPayment>;
}

export function createSandboxState(settings: SandboxSettings): SandboxState {
  return { settings: { ...settings }, calls: [], nextCallSeq: 1, idempotency: new Map(), notifications: [], shops: new Map(), payouts: [], payoutsByKey: new Map(), orderFeed: [], payments: new Map() };
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
    proceedsTransfers: [],
    refunds: [],
  };
}
