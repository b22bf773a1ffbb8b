/**
 * The partner platforms a Kuaishou shop binds outside stores from (docs/rules.md §5): Taobao
 * and Tmall through Taobao Union, Youzan through OAuth 2.0, JD Union and Pinduoduo. One
 * gateway for all of them, so activities depend on this interface and tests inject a fake.
 * Kept free of runtime imports so `.defs.ts` files can `import type` from it.
 *
 * Errors are ApplicationFailures with the types of domain/errors.ts: PlatformUnavailable
 * (retryable: 5xx, 408, 429, timeouts), PlatformRejected (non-retryable 4xx) and
 * PartnerAuthorisationRevoked (non-retryable: the partner refused a token or refresh token
 * for good; the merchant must authorise again). Messages never carry a token, a secret or an
 * identity number: they end up in workflow history and logs.
 */

export type PartnerPlatform = 'taobao' | 'tmall' | 'youzan' | 'jd' | 'pinduoduo';
export const PARTNER_PLATFORMS: readonly PartnerPlatform[] = ['taobao', 'tmall', 'youzan', 'jd', 'pinduoduo'];

/** Youzan's binding levels [src]: what the Kuaishou shop may read and write in the store. */
export type PermissionLevel = 'basic' | 'advanced' | 'custom';

/**
 * The store's real-name entity as the partner knows it. Personal data: read inside an
 * activity and compared there; never returned to a workflow, logged or stored in clear.
 */
export interface PartnerStoreEntity {
  kind: 'enterprise' | 'individual';
  name: string;
  /** Enterprise: the unified social credit code. */
  uscc?: string;
  /** Individual: the resident ID number. */
  idNumber?: string;
}

export interface PartnerStoreInfo {
  platform: PartnerPlatform;
  storeId: string;
  storeName: string;
  entity: PartnerStoreEntity;
  /** Taobao / Tmall: the Taobao-ke (淘宝客) service is open for the store. */
  taobaokeOpen?: boolean;
  /** JD: the store is JD self-operated (自营), whose links JD Union promotes. */
  selfOperated?: boolean;
}

/** Taobao Union's answer about a promotion position (PID) the merchant authorised. */
export interface UnionAuthorisation {
  pid: string;
  status: 'authorised' | 'not_authorised';
  /** Who authorised it: only the union's main account counts [src]. */
  account: 'main' | 'sub' | null;
  /** The position's type: content-scene promotion (内容场景推广) is required. */
  positionType: 'content_scene' | 'other' | null;
}

/** The tokens of an OAuth grant. Secrets: they go to the vault, never into history. */
export interface OAuthGrant {
  storeId: string;
  accessToken: string;
  refreshToken: string;
  /**
   * Lifetimes in seconds from the answer (OAuth's `expires_in`), not instants: the binding
   * process turns them into instants on its own clock, so its refresh timer is right in
   * skipped time too (tests) and whatever the partner's clock says.
   */
  accessExpiresInSeconds: number;
  refreshExpiresInSeconds: number;
  level: PermissionLevel;
}

export interface JdUnionAuthorisation {
  unionId: string;
  status: 'authorised' | 'not_authorised';
  /** The store sells JD self-operated goods (JD Union promotes only those links) [src]. */
  selfOperated: boolean;
}

export interface PinduoduoAuthorisation {
  pid: string;
  status: 'authorised' | 'not_authorised';
  /** Pinduoduo pays commission only (纯佣金) [src]. */
  commissionOnly: boolean;
}

/** An image as the partner describes it (the sandbox supplies this metadata). */
export interface PartnerImage {
  url: string;
  width: number;
  height: number;
  /** The partner's own image check: a watermark, or text laid over the picture. */
  watermark: boolean;
  text: boolean;
}

/**
 * One product of a bound store as its partner lists it (docs/rules.md §5.3). The detail page
 * stays on the partner (`detailUrl`); the Kuaishou listing links back to it.
 */
export interface PartnerProduct {
  productId: string;
  title: string;
  description: string;
  /** The partner's category id; mapped to a Kuaishou category by the versioned mapping table. */
  category: string;
  /** The store's own price, integer fen. */
  priceFen: number;
  /** The price the store gives the Kuaishou channel (channel management), integer fen. */
  channelPriceFen: number;
  inventory: number;
  /** Pre-sale (预售) items must carry the deposit label: 订金 or 淘宝预售. */
  presale: boolean;
  presaleLabel: string | null;
  /** Promotion tags, each marked official (the partner's own) or not. */
  promoTags: Array<{ tag: string; official: boolean }>;
  /** Attribute name → value, as the partner names them. */
  attributes: Record<string, string>;
  /** The first is the main image. */
  images: PartnerImage[];
  /** Beauty and food: the quality-inspection report's number. */
  qualityReport: string | null;
  /** Cosmetics: the filing number (备案号). */
  filingNumber: string | null;
  detailUrl: string;
  /** ISO-8601 instant the partner last changed the product. */
  updatedAt: string;
}

export interface PartnerProductPage {
  products: PartnerProduct[];
  /** Where the next page starts; null after the last. */
  nextCursor: string | null;
}

export interface PartnerGateway {
  /**
   * The store as its platform knows it; null when the platform knows no such store. Read as the
   * app, or, given the merchant's Youzan access token, as the merchant (a revoked or expired
   * token then fails with PartnerAuthorisationRevoked).
   */
  storeInfo(platform: PartnerPlatform, storeId: string, accessToken?: string): Promise<PartnerStoreInfo | null>;
  /** Taobao Union's record of the PID's authorisation for the store. */
  taobaoUnionAuthorisation(platform: 'taobao' | 'tmall', storeId: string, pid: string): Promise<UnionAuthorisation>;
  /** Where the merchant is sent to consent (OAuth authorisation-code flow); pure, no call. */
  youzanAuthorizeUrl(input: { state: string; level: PermissionLevel; redirectUri: string }): string;
  /** Exchanges the code of the callback for tokens (app id and secret come from config). */
  youzanExchangeCode(code: string, redirectUri: string): Promise<OAuthGrant>;
  /** A new grant from the refresh token; PartnerAuthorisationRevoked when it is revoked or expired. */
  youzanRefresh(refreshToken: string): Promise<OAuthGrant>;
  jdUnionAuthorisation(storeId: string, unionId: string): Promise<JdUnionAuthorisation>;
  pinduoduoAuthorisation(storeId: string, pid: string): Promise<PinduoduoAuthorisation>;
  /**
   * A page of the store's products, in a stable order (product id). Youzan needs the binding's
   * access token (PartnerAuthorisationRevoked when it is refused); the union partners read with
   * the app's credentials. `limit` 1–1,000.
   */
  listProducts(platform: PartnerPlatform, storeId: string, page: { cursor: string | null; limit: number }, accessToken?: string): Promise<PartnerProductPage>;
}

export interface PartnerGatewayOptions {
  /** The partners' API base (the sandbox serves every partner under /partners). */
  baseUrl: string;
  timeoutMs: number;
  youzan: { appId: string; appSecret: string };
  fetchImpl?: typeof fetch;
}
