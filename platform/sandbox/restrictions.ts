import { Router } from 'express';
import { z } from 'zod';
import type { Restriction, RestrictionsChange, RestrictionsInForce } from '../types';
import { idempotentRoute, routeParam } from './idempotency';
import { shopForRead, shopForUpdate, type SandboxShop, type SandboxState } from './state';
import { queryRoute } from './validation';

/** The order answers list them in: the deposit ladder's (docs/rules.md §2) in ladder order, then the violation penalties'. */
export const RESTRICTIONS = [
  'close_cart',
  'stop_listing',
  'stop_sales',
  'restrict_withdrawals',
  'disable_api',
  'bar_big_promotions',
  'disable_third_party_promotion',
] as const satisfies readonly Restriction[];

// `satisfies` above only stops unknown names; this stops a Restriction the list forgot,
// which the schema would otherwise refuse with 400 although the client may send it.
// Exported only so that the check is not an unused variable.
type UnlistedRestriction = Exclude<Restriction, (typeof RESTRICTIONS)[number]>;
export const EVERY_RESTRICTION_LISTED: [UnlistedRestriction] extends [never] ? true : never = true;

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const restrictionsChangeSchema: z.ZodType<RestrictionsChange> = z
  .object({
    action: z.enum(['apply', 'lift']),
    restrictions: z.array(z.enum(RESTRICTIONS)).min(1),
    reason: z.string().min(1),
  })
  .strict();

const noQuerySchema = z.object({}).strict();

export function restrictionsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/shops/:shopId/restrictions', {
    store: state.idempotency,
    schema: restrictionsChangeSchema,
    handle: (change, req) => {
      const shopId = routeParam(req, 'shopId');
      const shop = shopForUpdate(state, shopId);
      for (const restriction of change.restrictions) {
        if (change.action === 'apply') shop.restrictions.add(restriction);
        else shop.restrictions.delete(restriction);
      }
      shop.restrictionChanges.push({ ...change, at: new Date().toISOString() });
      const body: RestrictionsInForce = { shopId, inForce: restrictionsInForce(shop) };
      return { status: 200, body };
    },
  });

  queryRoute(router, '/shops/:shopId/restrictions', noQuerySchema, (_query, req) => ({ inForce: restrictionsInForce(shopForRead(state, routeParam(req, 'shopId'))) }));

  return router;
}

export function restrictionsInForce(shop: SandboxShop): Restriction[] {
  return RESTRICTIONS.filter((r) => shop.restrictions.has(r));
}
