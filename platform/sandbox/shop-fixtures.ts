import { Router } from 'express';
import { z } from 'zod';
import type { ShopOrder } from '../types';
import { SHOP_FIXTURES_PATH } from './control-paths';
import { listingsSummary } from './listings';
import { delistedProducts } from './products';
import { restrictionsInForce } from './restrictions';
import { shopForRead, shopForUpdate, type SandboxShop, type SandboxState } from './state';
import { invalidRequest, monthSchema } from './validation';

const fenSchema = z.number().int().min(0);

const shopOrderSchema: z.ZodType<ShopOrder> = z
  .object({
    orderId: z.string().min(1),
    status: z.enum(['open', 'finished']),
    receiptConfirmedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .strict();

export const shopFixturesSchema = z
  .object({
    availableProceedsFen: fenSchema.optional(),
    monthlySales: z.record(monthSchema, z.record(z.string().min(1), fenSchema)).optional(),
    orders: z
      .array(shopOrderSchema)
      .refine((orders) => new Set(orders.map((o) => o.orderId)).size === orders.length, 'orderId must be unique')
      .optional(),
  })
  .strict();

export type ShopFixtures = z.output<typeof shopFixturesSchema>;

/**
 * Test and dev control over what the platform knows about a shop. Not a platform API:
 * no idempotency key, no call log, no injected failures (see control-paths.ts).
 */
export function shopFixturesRouter(state: SandboxState): Router {
  const router = Router();

  router.get(SHOP_FIXTURES_PATH, (req, res) => {
    res.json(shopView(req.params.shopId, shopForRead(state, req.params.shopId), state));
  });

  router.put(SHOP_FIXTURES_PATH, (req, res) => {
    const fixtures = shopFixturesSchema.safeParse(req.body ?? {});
    if (!fixtures.success) {
      res.status(400).json(invalidRequest(fixtures.error));
      return;
    }
    const shop = shopForUpdate(state, req.params.shopId);
    mergeFixtures(shop, fixtures.data);
    res.json(shopView(req.params.shopId, shop, state));
  });

  return router;
}

/**
 * A field left out keeps its value. A month given replaces that month's categories, other
 * months stay; an order given replaces the one with its id or is appended, so a test can
 * finish one order without restating the rest.
 */
export function mergeFixtures(shop: SandboxShop, fixtures: ShopFixtures): void {
  if (fixtures.availableProceedsFen !== undefined) shop.availableProceedsFen = fixtures.availableProceedsFen;
  if (fixtures.monthlySales !== undefined) Object.assign(shop.monthlySales, fixtures.monthlySales);
  for (const order of fixtures.orders ?? []) {
    const at = shop.orders.findIndex((o) => o.orderId === order.orderId);
    if (at === -1) shop.orders.push(order);
    else shop.orders[at] = order;
  }
}

function shopView(shopId: string, shop: SandboxShop, state: SandboxState) {
  return {
    shopId,
    availableProceedsFen: shop.availableProceedsFen,
    monthlySales: shop.monthlySales,
    orders: shop.orders,
    inForce: restrictionsInForce(shop),
    restrictionChanges: shop.restrictionChanges,
    delisted: delistedProducts(shop),
    productChanges: shop.productChanges,
    proceedsTransfers: shop.proceedsTransfers,
    refunds: shop.refunds,
    listings: listingsSummary(state.listings.get(shopId)),
  };
}
