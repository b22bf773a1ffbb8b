import { Router } from 'express';
import { z } from 'zod';
import type { ProductsChange, ProductsDelisted } from '../types';
import { idempotentRoute, routeParam } from './idempotency';
import { shopForUpdate, type SandboxShop, type SandboxState } from './state';

/** One call's limit; a caller with more products splits them over several calls. */
export const MAX_PRODUCTS_PER_CHANGE = 200;

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const productsChangeSchema: z.ZodType<ProductsChange> = z
  .object({
    productIds: z.array(z.string().min(1)).min(1).max(MAX_PRODUCTS_PER_CHANGE),
    reason: z.string().min(1),
  })
  .strict();

/**
 * Delisting and relisting products, as violation penalties do. The delisted ids form a set,
 * as restrictions do: delisting twice, or relisting a product that is on sale, changes nothing.
 */
export function productsRouter(state: SandboxState): Router {
  const router = Router();

  for (const action of ['delist', 'relist'] as const) {
    idempotentRoute(router, `/shops/:shopId/products/${action}`, {
      store: state.idempotency,
      schema: productsChangeSchema,
      handle: (change, req) => {
        const shop = shopForUpdate(state, routeParam(req, 'shopId'));
        for (const productId of change.productIds) {
          if (action === 'delist') shop.delistedProducts.add(productId);
          else shop.delistedProducts.delete(productId);
        }
        shop.productChanges.push({ action, ...change, at: new Date().toISOString() });
        const body: ProductsDelisted = { delisted: delistedProducts(shop) };
        return { status: 200, body };
      },
    });
  }

  return router;
}

/** Sorted, so answers do not depend on the order of earlier calls. */
export function delistedProducts(shop: SandboxShop): string[] {
  return [...shop.delistedProducts].sort();
}
