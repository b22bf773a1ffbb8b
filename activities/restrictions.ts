import type { RestrictionSource, ShopRepository } from '../db/repositories/shops';
import type { Restriction } from '../domain/deposit-policy';
import type { PlatformClient } from '../platform/types';

/**
 * Lifts what one process (the deposit ladder, or a closure) restricted, and nothing
 * another process still holds: the platform keeps one set per shop, so a stop_sales the
 * closure needs must survive the ladder's episode ending, and the other way round.
 */
export async function liftOwnRestrictions(
  shops: ShopRepository,
  platform: PlatformClient,
  input: { shopId: string; source: RestrictionSource; idempotencyKey: string; reason: string },
): Promise<Restriction[]> {
  const all = await shops.restrictionsOf(input.shopId);
  const heldByOthers = new Set(all.filter((r) => r.source !== input.source).map((r) => r.restriction));
  const own = all.filter((r) => r.source === input.source).map((r) => r.restriction as Restriction);
  const toLift = own.filter((r) => !heldByOthers.has(r));
  if (toLift.length > 0) {
    await platform.setRestrictions(input.shopId, { action: 'lift', restrictions: toLift, reason: input.reason }, input.idempotencyKey);
  }
  await shops.liftRestrictions(input.shopId, 'all', input.source);
  return toLift;
}
