import { Router } from 'express';
import { z } from 'zod';
import { PARTNER_PLATFORMS, type PartnerPlatform } from '../partners/types';
import type { KuaishouListing, ListingsAnswer, ListingsHold, ListingsUpsert } from '../types';
import { SHOP_LISTINGS_FIXTURES_PATH } from './control-paths';
import { idempotentRoute, routeParam } from './idempotency';
import { bulkPartName, listingKey, type SandboxListing, type SandboxState, type ShopListings } from './state';
import { queryRoute } from './validation';

/** One call's limit, as for products and links. */
export const MAX_LISTINGS_PER_CALL = 200;

const partnerSchema = z.enum(PARTNER_PLATFORMS as [PartnerPlatform, ...PartnerPlatform[]]);

export const kuaishouListingSchema: z.ZodType<KuaishouListing> = z
  .object({
    productId: z.string().min(1).max(128),
    title: z.string().min(1),
    category: z.string().min(1),
    priceFen: z.number().int().min(0),
    inventory: z.number().int().min(0),
    mainImageUrl: z.string().min(1),
    detailUrl: z.string().min(1),
    presaleLabel: z.string().min(1).nullable(),
    promoTags: z.array(z.string().min(1)),
  })
  .strict();

const distinct = (ids: string[]) => new Set(ids).size === ids.length;

export const listingsUpsertSchema: z.ZodType<ListingsUpsert> = z
  .object({
    partner: partnerSchema,
    storeId: z.string().min(1),
    listings: z
      .array(kuaishouListingSchema)
      .min(1)
      .max(MAX_LISTINGS_PER_CALL)
      .refine((listings) => distinct(listings.map((l) => l.productId)), 'productId must be unique within a call'),
  })
  .strict();

export const listingsHoldSchema: z.ZodType<ListingsHold> = z
  .object({
    action: z.enum(['hold', 'release']),
    partner: partnerSchema,
    storeId: z.string().min(1),
    productIds: z.array(z.string().min(1)).min(1).max(MAX_LISTINGS_PER_CALL).refine(distinct, 'productIds must be unique'),
    reason: z.string().min(1),
  })
  .strict();

/**
 * Listings of bound stores' products on a Kuaishou shop (catalogue sync), and holds on them (a
 * risk flag). An upsert equal to the listing stored is no change; held listings form a set.
 * Every upsert the platform runs is counted per listing, so a test can prove exactly-once.
 */
export function listingsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/shops/:shopId/listings', {
    store: state.idempotency,
    schema: listingsUpsertSchema,
    handle: ({ partner, storeId, listings }, req) => {
      const shopId = routeParam(req, 'shopId');
      const shop = shopListingsForUpdate(state, shopId);
      let changed = 0;
      for (const listing of listings) {
        const key = listingKey(partner, storeId, listing.productId);
        shop.upserts.set(key, (shop.upserts.get(key) ?? 0) + 1);
        shop.unsaved.add(key);
        const stored = shop.listings.get(key);
        if (stored && sameListing(stored, listing)) continue;
        shop.listings.set(key, { ...listing, partner, storeId });
        shop.changes.set(key, (shop.changes.get(key) ?? 0) + 1);
        changed++;
      }
      state.dirtyBulk.add(bulkPartName({ kind: 'listings', shopId }));
      const body: ListingsAnswer = { changed };
      return { status: 200, body };
    },
  });

  idempotentRoute(router, '/shops/:shopId/listings/hold', {
    store: state.idempotency,
    schema: listingsHoldSchema,
    handle: ({ action, partner, storeId, productIds, reason }, req) => {
      const shopId = routeParam(req, 'shopId');
      const shop = shopListingsForUpdate(state, shopId);
      let changed = 0;
      for (const productId of productIds) {
        const key = listingKey(partner, storeId, productId);
        if (action === 'hold' && !shop.held.has(key)) {
          shop.held.set(key, reason);
          shop.unsaved.add(key);
          changed++;
        } else if (action === 'release' && shop.held.delete(key)) {
          shop.unsaved.add(key);
          changed++;
        }
      }
      state.dirtyBulk.add(bulkPartName({ kind: 'listings', shopId }));
      const body: ListingsAnswer = { changed };
      return { status: 200, body };
    },
  });

  return router;
}

const fixtureQuerySchema = z
  .object({
    partner: partnerSchema.optional(),
    storeId: z.string().min(1).optional(),
    cursor: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  })
  .strict();

/** What a shop lists, with each listing's hold and counts; a fixture read (no log, no failures). */
export function listingsFixturesRouter(state: SandboxState): Router {
  const router = Router();
  queryRoute(router, SHOP_LISTINGS_FIXTURES_PATH, fixtureQuerySchema, ({ partner, storeId, cursor, limit }, req) => {
    const shop = state.listings.get(routeParam(req, 'shopId'));
    if (!shop) return { listings: [], nextCursor: null };
    const keys = [...shop.listings.keys()]
      .filter((key) => {
        const listing = shop.listings.get(key) as SandboxListing;
        return (partner === undefined || listing.partner === partner) && (storeId === undefined || listing.storeId === storeId);
      })
      .sort()
      .filter((key) => cursor === undefined || key > cursor);
    const page = keys.slice(0, limit);
    return {
      listings: page.map((key) => ({ ...(shop.listings.get(key) as SandboxListing), held: shop.held.has(key), upserts: shop.upserts.get(key) ?? 0, changes: shop.changes.get(key) ?? 0 })),
      nextCursor: keys.length > limit ? page[page.length - 1] : null,
    };
  });
  return router;
}

/** The shop view's summary (GET /v1/_shops/:shopId): counts and the held listings. */
export function listingsSummary(shop: ShopListings | undefined) {
  if (!shop) return { count: 0, upserts: 0, held: [] };
  let upserts = 0;
  for (const n of shop.upserts.values()) upserts += n;
  const held = [...shop.held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, reason]) => ({ ...splitKey(key), reason }));
  return { count: shop.listings.size, upserts, held };
}

export function emptyShopListings(): ShopListings {
  return { listings: new Map(), held: new Map(), upserts: new Map(), changes: new Map(), unsaved: new Set(), savedLines: 0 };
}

function shopListingsForUpdate(state: SandboxState, shopId: string): ShopListings {
  let shop = state.listings.get(shopId);
  if (!shop) {
    shop = emptyShopListings();
    state.listings.set(shopId, shop);
  }
  return shop;
}

function sameListing(stored: SandboxListing, listing: KuaishouListing): boolean {
  return (
    stored.title === listing.title &&
    stored.category === listing.category &&
    stored.priceFen === listing.priceFen &&
    stored.inventory === listing.inventory &&
    stored.mainImageUrl === listing.mainImageUrl &&
    stored.detailUrl === listing.detailUrl &&
    stored.presaleLabel === listing.presaleLabel &&
    stored.promoTags.length === listing.promoTags.length &&
    stored.promoTags.every((tag, i) => tag === listing.promoTags[i])
  );
}

// Partner and store ids hold no colon in practice; the product id is the rest.
function splitKey(key: string): { partner: string; storeId: string; productId: string } {
  const first = key.indexOf(':');
  const second = key.indexOf(':', first + 1);
  return { partner: key.slice(0, first), storeId: key.slice(first + 1, second), productId: key.slice(second + 1) };
}
