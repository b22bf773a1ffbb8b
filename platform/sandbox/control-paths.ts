/**
 * Routes under /v1 that steer or inspect the sandbox rather than stand in for the
 * platform. They are left out of the call log and exempt from injected latency and
 * failures: otherwise `errorRate: 1` could never be switched off again.
 */
export const SETTINGS_PATH = '/_settings';
export const CALLS_PATH = '/calls';
/** Shop fixtures (proceeds, sales, orders) that tests and dev set up. */
export const SHOP_FIXTURES_PATH = '/_shops/:shopId';
/** A shop's Kuaishou listings with their holds and upsert counts. */
export const SHOP_LISTINGS_FIXTURES_PATH = '/_shops/:shopId/listings';

/** Appends order states to the order feed, as the platform would after each change. */
export const ORDER_FEED_FIXTURES_PATH = '/_orders';

/** Payments a test or dev makes, confirms or fails, as a payer and the platform would. */
export const PAYMENT_FIXTURES_PATH = '/_payments';

const SHOP_FIXTURES_PATTERN = /^\/_shops\/[^/]+(\/listings)?$/;
const PAYMENT_FIXTURES_PATTERN = /^\/_payments(\/[^/]+\/(confirm|fail))?$/;

export function isControlPath(path: string): boolean {
  const normalised = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return (
    normalised === SETTINGS_PATH ||
    normalised === CALLS_PATH ||
    normalised === ORDER_FEED_FIXTURES_PATH ||
    SHOP_FIXTURES_PATTERN.test(normalised) ||
    PAYMENT_FIXTURES_PATTERN.test(normalised)
  );
}
