import { Router } from 'express';
import { requireRole } from '../auth';
import { listRoute } from '../list-route';
import { describeRoute, errorResponses, json } from '../openapi';
import type { RouteFactory, RouterDeps } from '../routes';
import { pageOf } from '../pagination';
import { parse } from '../validate';
import { bindingIdParams, mappingBody, mappingListQuery, mappingView, productListQuery, productView, runIdParams, runListQuery, runView, storeResultView } from './schemas';
import { createCatalogueService, type CatalogueService } from './service';

const pageOfStores = pageOf(storeResultView);
const pageOfProducts = pageOf(productView);

/** The catalogue sync as ops and merchants see it (docs/rules.md §5.3). */
export function createCatalogueRouter({ service, registry, limitMutations }: RouterDeps<CatalogueService>): Router {
  const router = Router();
  const { 404: missing, 409: clash } = errorResponses;

  listRoute(router, registry, {
    path: '/v1/category-mappings',
    summary: 'Partner category → Kuaishou category mappings: the version in effect of each, or every version (ops, admin)',
    roles: ['ops', 'admin'],
    query: mappingListQuery,
    item: mappingView,
    list: (query) => service.listMappings(query),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/category-mappings',
    summary: "Map a partner category (or unmap it): a new version, in effect from the next sync; earlier versions stay as they were (ops, admin)",
    request: { body: { required: true, ...json(mappingBody) } },
    responses: { 201: { description: 'the new version', ...json(mappingView) }, 409: { ...clash, description: 'conflict: the category changed at the same time' } },
  });
  router.post('/category-mappings', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const body = parse(mappingBody, req.body, 'category mapping');
    const target = `category-mapping:${body.partnerPlatform}:${body.partnerCategory}`;
    res.locals.audit = { action: 'category_mapping.change', target, details: { reason: body.reason } };
    const created = await service.addMapping(body, req.principal!);
    res.locals.audit = { action: 'category_mapping.change', target, details: { reason: body.reason, version: created.version, ksCategory: created.ksCategory } };
    res.status(201).json(created);
  });

  listRoute(router, registry, {
    path: '/v1/catalogue/sync-runs',
    summary: 'Catalogue sync runs, the newest first, with stores synced, skipped and failed and check failures by class (ops, admin)',
    roles: ['ops', 'admin'],
    query: runListQuery,
    item: runView,
    list: (query) => service.listRuns(query),
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/catalogue/sync-runs/{runId}/stores',
    summary: "A run's stores: synced, skipped (needs_reauth) or failed with the reason, their counts and check failures by class (ops, admin)",
    request: { params: runIdParams, query: runListQuery },
    responses: { 200: { description: 'one page', ...json(pageOfStores) } },
  });
  router.get('/catalogue/sync-runs/:runId/stores', requireRole('ops', 'admin'), async (req, res) => {
    const { runId } = parse(runIdParams, req.params, 'run id');
    res.json(await service.listStores(runId, parse(runListQuery, req.query, 'query')));
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/bindings/{bindingId}/products',
    summary: "A bound store's products as merchant-ops keeps them: listing status and what failed, with how to fix it (merchant for its own; ops, admin)",
    request: { params: bindingIdParams, query: productListQuery },
    responses: { 200: { description: 'one page', ...json(pageOfProducts) }, 404: { ...missing, description: "no such binding (or another merchant's)" } },
  });
  router.get('/bindings/:bindingId/products', requireRole('merchant', 'ops', 'admin'), async (req, res) => {
    const { bindingId } = parse(bindingIdParams, req.params, 'binding id');
    res.json(await service.listProducts(bindingId, parse(productListQuery, req.query, 'query'), req.principal!));
  });

  return router;
}

/** The catalogue routes, as the process registry mounts them. */
export const catalogueRoutes: RouteFactory = ({ db, openapi, limitMutations, idempotent }) =>
  createCatalogueRouter({ service: createCatalogueService({ db }), registry: openapi, limitMutations, idempotent });
