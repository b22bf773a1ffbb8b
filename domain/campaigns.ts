/**
 * Campaigns (docs/rules.md §5.5): one bulk action over a list of targets, paced against the
 * platform. Pure rules only: the kinds, the restrictions that close a shop, the pacing and the
 * summary.
 */
export const CAMPAIGN_KINDS = ['close_shops', 'delist_products', 'warn_streamers'] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number];

export const CAMPAIGN_STATES = ['running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export const ITEM_STATES = ['pending', 'done', 'refused', 'failed'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/**
 * What "close the shop" switches off on the platform [default]: the cart, new listings and
 * sales, so nothing more is sold. Withdrawals stay open: consumers' refunds and the shop's own
 * exit (§2) still need its money to move, and restricting them is an enforcement action's call.
 */
export const CLOSE_SHOP_RESTRICTIONS = ['close_cart', 'stop_listing', 'stop_sales'] as const;

/** The longest list one campaign takes [default]: 50,000 targets (the reported campaign delisted 30,000+ products). */
export const MAX_CAMPAIGN_ITEMS = 50_000;
/** The platform takes 1 to 200 product ids per delist call: one item is one call. */
export const MAX_PRODUCTS_PER_ITEM = 200;
/** Platform calls per minute unless ops say otherwise [default], and the bounds they may choose in. */
export const DEFAULT_RATE_PER_MINUTE = 120;
export const MIN_RATE_PER_MINUTE = 1;
export const MAX_RATE_PER_MINUTE = 6_000;
/** Calls one page (one activity) makes at most, so progress and pause are seen often. */
export const MAX_CALLS_PER_PAGE = 50;
/** Tries of an item whose call failed for a reason that may pass (5xx, timeout) before it is marked failed [default]. */
export const MAX_ITEM_ATTEMPTS = 5;

const MINUTE_MS = 60_000;

export interface Pacing {
  /** Calls a page may make. */
  callsPerPage: number;
  /** The wait from the end of one page to the start of the next. */
  gapMs: number;
}

/**
 * How a campaign keeps to `ratePerMinute` calls in ANY minute (a sliding window, not a
 * calendar minute). A page makes at most B calls (B = min(rate, MAX_CALLS_PER_PAGE)) and the
 * next page starts at least `gapMs` after the page before ended. A window of one minute then
 * meets at most P pages, P = floor(rate / B): P + 1 pages would need P gaps inside it, and
 * P × gapMs > one minute. So it sees at most P × B ≤ rate calls, however long a page takes.
 */
export function pacingFor(ratePerMinute: number): Pacing {
  if (!Number.isSafeInteger(ratePerMinute) || ratePerMinute < MIN_RATE_PER_MINUTE) throw new RangeError(`a rate of ${ratePerMinute} calls per minute`);
  const callsPerPage = Math.min(ratePerMinute, MAX_CALLS_PER_PAGE);
  const pagesPerMinute = Math.floor(ratePerMinute / callsPerPage);
  return { callsPerPage, gapMs: Math.floor(MINUTE_MS / pagesPerMinute) + 1 };
}

/** The most calls any window of `windowMs` holds, given when each call was made (ms). For tests and checks. */
export function mostCallsInWindow(callTimes: readonly number[], windowMs: number): number {
  const sorted = [...callTimes].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

export interface CampaignCounts {
  total: number;
  done: number;
  refused: number;
  failed: number;
}

export interface CampaignSummary extends CampaignCounts {
  kind: CampaignKind;
  /** Items never tried: left when the campaign was cancelled. */
  notTried: number;
  /** `completed` when every item has its result, else `cancelled`. */
  outcome: 'completed' | 'cancelled';
}

/** The summary a campaign ends with; every item is in exactly one of done, refused, failed and not tried. */
export function campaignSummary(kind: CampaignKind, counts: CampaignCounts, cancelled: boolean): CampaignSummary {
  const notTried = counts.total - counts.done - counts.refused - counts.failed;
  if (notTried < 0) throw new RangeError(`more results (${counts.total - notTried}) than items (${counts.total})`);
  return { kind, ...counts, notTried, outcome: cancelled && notTried > 0 ? 'cancelled' : 'completed' };
}

/**
 * What an item's failed call means: refused for good, our access refused (ops must look), the
 * platform asking us to slow down, or worth another try.
 */
export type CallFailure = 'refused' | 'access_refused' | 'throttled' | 'transient';

/**
 * A platform status as the campaign treats it: 401/403 is our access, not the target; 429 is the
 * platform's pace, not the target's fault, so it never uses up the item's tries (a busy platform
 * would otherwise fail items that were never refused); 408 is a timeout; any other 4xx refuses
 * the target.
 */
export function callFailureOf(status: number | undefined): CallFailure {
  if (status === 401 || status === 403) return 'access_refused';
  if (status === 429) return 'throttled';
  if (status !== undefined && status >= 400 && status < 500 && status !== 408) return 'refused';
  return 'transient';
}

/** After a transient failure: try again later, or give the item up as failed. */
export const afterTransientFailure = (attemptsSoFar: number): 'retry' | 'failed' => (attemptsSoFar >= MAX_ITEM_ATTEMPTS ? 'failed' : 'retry');
