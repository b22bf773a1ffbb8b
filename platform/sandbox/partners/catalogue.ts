import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { PARTNER_PLATFORMS, type PartnerPlatform, type PartnerProduct, type PartnerProductPage } from '../../partners/types';
import { bulkPartName, partnerStoreKey, type PartnerCatalogue, type SandboxState } from '../state';
import { invalidRequest } from '../validation';
import { clientCredentials, isTheApp, refuseClient, type PartnerApp } from './app-auth';
import { CATALOGUE_DEFECTS, generateProducts, mutate, type CatalogueDefect } from './catalogue-generator';
import { bearerToken } from './stores';
import { grantOfAccessToken } from './youzan-grants';

export const STORE_PRODUCTS_PATH = '/stores/:platform/:storeId/products';
export const STORE_PRODUCTS_FIXTURE_PATH = '/_stores/:platform/:storeId/products';

/** A page holds 1 to 1,000 products, as the partners' list APIs allow. */
export const MAX_PRODUCTS_PAGE = 1_000;
/** What one generate call may ask for: enough for the benchmark's largest store. */
export const MAX_GENERATED_PRODUCTS = 2_000_000;

const pageQuerySchema = z
  .object({
    cursor: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PRODUCTS_PAGE).default(100),
  })
  .strict();

const imageSchema = z.object({ url: z.string().min(1), width: z.number().int().min(1), height: z.number().int().min(1), watermark: z.boolean(), text: z.boolean() }).strict();

export const partnerProductSchema: z.ZodType<PartnerProduct> = z
  .object({
    productId: z.string().min(1).max(128),
    title: z.string(),
    description: z.string(),
    category: z.string().min(1),
    priceFen: z.number().int().min(0),
    channelPriceFen: z.number().int().min(0),
    inventory: z.number().int().min(0),
    presale: z.boolean(),
    presaleLabel: z.string().min(1).nullable(),
    promoTags: z.array(z.object({ tag: z.string().min(1), official: z.boolean() }).strict()),
    attributes: z.record(z.string(), z.string()),
    images: z.array(imageSchema),
    qualityReport: z.string().min(1).nullable(),
    filingNumber: z.string().min(1).nullable(),
    detailUrl: z.string().min(1),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .strict();

const uniqueIds = (products: PartnerProduct[]) => new Set(products.map((p) => p.productId)).size === products.length;
const catalogueSchema = z.array(partnerProductSchema).refine(uniqueIds, 'productId must be unique');
const patchSchema = z
  .object({
    upsert: catalogueSchema.optional(),
    delete: z.array(z.string().min(1)).optional(),
  })
  .strict();

const rateSchema = z.number().min(0).max(1);
const generateSchema = z
  .object({
    count: z.number().int().min(0).max(MAX_GENERATED_PRODUCTS),
    seed: z.union([z.number().int(), z.string().min(1)]),
    presaleRate: rateSchema.optional(),
    updatedAt: z.iso.datetime({ offset: true }).optional(),
    /** A second round over the generated products (generator's `mutate`): what a later sync sees. */
    then: z
      .object({ seed: z.union([z.number().int(), z.string().min(1)]), priceChangeRate: rateSchema, priceChangePercent: z.number().int().min(1).max(90), bannedWordRate: rateSchema })
      .strict()
      .optional(),
    ...(Object.fromEntries(CATALOGUE_DEFECTS.map((d) => [d, rateSchema.optional()])) as Record<CatalogueDefect, z.ZodOptional<typeof rateSchema>>),
  })
  .strict();

/**
 * A store's products as its partner lists them, in product-id order, a page at a time; the
 * cursor is the last id of the page before. Read as the app (HTTP Basic), or on Youzan with the
 * access token of a live grant for that very store.
 */
export function catalogueRouter(state: SandboxState, app: PartnerApp | undefined, now: () => number): Router {
  const router = Router();
  router.get(STORE_PRODUCTS_PATH, (req, res) => {
    const platform = platformOf(req, res);
    if (!platform) return;
    const storeId = req.params.storeId as string;
    if (!authorised(state, req, res, { app, now: now(), platform, storeId })) return;
    const query = pageQuerySchema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    const key = partnerStoreKey(platform, storeId);
    if (!state.partners.stores.has(key)) {
      res.status(404).json({ error: 'store_not_found' });
      return;
    }
    const page: PartnerProductPage = pageOf(state.partners.catalogues.get(key), query.data.cursor ?? null, query.data.limit);
    res.json(page);
  });
  return router;
}

/**
 * What the merchant did to the store's products on the partner's side: replace them all (PUT),
 * add, change or remove some (PATCH), or fill the store from a seed (POST …/generate).
 */
export function catalogueFixturesRouter(state: SandboxState): Router {
  const router = Router();

  router.put(STORE_PRODUCTS_FIXTURE_PATH, (req, res) => {
    withStore(state, req, res, (catalogue) => {
      const parsed = catalogueSchema.safeParse(req.body ?? null);
      if (!parsed.success) return invalid(res, parsed.error);
      catalogue.products = new Map(parsed.data.map((p) => [p.productId, p]));
      return catalogue;
    });
  });

  router.patch(STORE_PRODUCTS_FIXTURE_PATH, (req, res) => {
    withStore(state, req, res, (catalogue) => {
      const parsed = patchSchema.safeParse(req.body ?? {});
      if (!parsed.success) return invalid(res, parsed.error);
      for (const id of parsed.data.delete ?? []) catalogue.products.delete(id);
      for (const product of parsed.data.upsert ?? []) catalogue.products.set(product.productId, product);
      return catalogue;
    });
  });

  router.post(`${STORE_PRODUCTS_FIXTURE_PATH}/generate`, (req, res) => {
    withStore(state, req, res, (catalogue, storeId) => {
      const parsed = generateSchema.safeParse(req.body ?? {});
      if (!parsed.success) return invalid(res, parsed.error);
      const { count, seed, presaleRate, updatedAt, then, ...rates } = parsed.data;
      const generated = generateProducts({ storeId, count, seed, rates, ...(presaleRate === undefined ? {} : { presaleRate }), ...(updatedAt === undefined ? {} : { updatedAt }) });
      const products = then ? mutate(generated, then) : generated;
      catalogue.products = new Map(products.map((p) => [p.productId, p]));
      return catalogue;
    });
  });

  return router;
}

/** Sets a store's products in-process (a benchmark, a test): the same effect as the PUT fixture. */
export function setCatalogue(state: SandboxState, platform: PartnerPlatform, storeId: string, products: readonly PartnerProduct[]): void {
  const key = partnerStoreKey(platform, storeId);
  state.partners.catalogues.set(key, { products: new Map(products.map((p) => [p.productId, p])), sortedIds: null });
  state.dirtyBulk.add(bulkPartName({ kind: 'catalogue', storeKey: key }));
}

export function pageOf(catalogue: PartnerCatalogue | undefined, cursor: string | null, limit: number): PartnerProductPage {
  if (!catalogue) return { products: [], nextCursor: null };
  // Sorted once per change, not per page: a walk over a million products stays linear.
  catalogue.sortedIds ??= [...catalogue.products.keys()].sort();
  const ids = catalogue.sortedIds;
  const start = cursor === null ? 0 : firstAfter(ids, cursor);
  const pageIds = ids.slice(start, start + limit);
  const products = pageIds.map((id) => catalogue.products.get(id) as PartnerProduct);
  const more = start + limit < ids.length;
  return { products, nextCursor: more ? pageIds[pageIds.length - 1] : null };
}

// The first index whose id sorts after the cursor, so a cursor whose product was deleted still works.
function firstAfter(ids: readonly string[], cursor: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ids[mid] <= cursor) low = mid + 1;
    else high = mid;
  }
  return low;
}

interface AuthContext {
  app: PartnerApp | undefined;
  now: number;
  platform: PartnerPlatform;
  storeId: string;
}

// A Youzan token is the merchant's consent for one store. A token the partner no longer knows
// (expired, revoked, rotated) is 401, which the gateway reads as an authorisation ended; a live
// token used for another store is 403, as the store read answers it (RFC 6750 §3.1).
function authorised(state: SandboxState, req: Request, res: Response, context: AuthContext): boolean {
  const bearer = bearerToken(req);
  if (bearer !== undefined && context.platform === 'youzan') {
    const grant = grantOfAccessToken(state.partners.youzan, bearer, context.now);
    if (grant && grant.storeId === context.storeId) return true;
    if (grant) res.status(403).json({ error: 'insufficient_scope' });
    else res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid_token' });
    return false;
  }
  if (isTheApp(context.app, clientCredentials(req, false))) return true;
  refuseClient(res);
  return false;
}

function platformOf(req: Request, res: Response): PartnerPlatform | undefined {
  const platform = req.params.platform as PartnerPlatform;
  if (PARTNER_PLATFORMS.includes(platform)) return platform;
  res.status(404).json({ error: 'not_found' });
  return undefined;
}

function withStore(state: SandboxState, req: Request, res: Response, change: (catalogue: PartnerCatalogue, storeId: string) => PartnerCatalogue | undefined): void {
  const platform = platformOf(req, res);
  if (!platform) return;
  const storeId = req.params.storeId as string;
  const key = partnerStoreKey(platform, storeId);
  if (!state.partners.stores.has(key)) {
    res.status(404).json({ error: 'store_not_found' });
    return;
  }
  const current = state.partners.catalogues.get(key) ?? { products: new Map(), sortedIds: null };
  const changed = change(current, storeId);
  if (!changed) return;
  changed.sortedIds = null;
  state.partners.catalogues.set(key, changed);
  state.dirtyBulk.add(bulkPartName({ kind: 'catalogue', storeKey: key }));
  res.json({ platform, storeId, count: changed.products.size });
}

function invalid(res: Response, error: z.ZodError): undefined {
  res.status(400).json(invalidRequest(error));
  return undefined;
}
