import { Router } from 'express';
import { requireRole } from '../auth';
import { listRoute } from '../list-route';
import { describeRoute, json } from '../openapi';
import { readRoute } from '../read-route';
import type { RouteFactory } from '../routes';
import { parse } from '../validate';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  logisticsExceptionItem,
  logisticsExceptionListQuery,
  orderMapping,
  orderMappingParams,
  partnerOrderParams,
  shippingRate,
  shippingRateQuery,
  shopRateParams,
} from './schemas';
import { createFulfilmentService, type FulfilmentService } from './service';

export interface FulfilmentRouterDeps {
  service: FulfilmentService;
  registry: OpenAPIRegistry;
}

/** Reads of the fulfilment scan's results (docs/rules.md §5.4); nothing here changes state. */
export function createFulfilmentRouter({ service, registry }: FulfilmentRouterDeps): Router {
  const router = Router();

  describeRoute(registry, {
    method: 'get',
    path: '/v1/fulfilment/shops/{shopId}/shipping-rate',
    summary: "A shop's 48-hour shipping rate per Shanghai day of the deadline, over at most 92 days (ops, admin; merchant for its own shop)",
    request: { params: shopRateParams, query: shippingRateQuery },
    responses: { 200: { description: 'the days with orders due, and the total', ...json(shippingRate) } },
  });
  router.get('/fulfilment/shops/:shopId/shipping-rate', requireRole('ops', 'admin', 'merchant'), async (req, res) => {
    const { shopId } = parse(shopRateParams, req.params, 'shop id');
    res.json(await service.shippingRate(shopId, parse(shippingRateQuery, req.query, 'query'), req.principal!));
  });

  readRoute(router, registry, {
    path: '/v1/fulfilment/orders/{orderId}/mapping',
    summary: 'The partner order (e.g. Youzan) a Kuaishou order mirrors (ops, admin; merchant for its own orders)',
    roles: ['ops', 'admin', 'merchant'],
    params: { schema: orderMappingParams, name: 'order id' },
    response: { description: 'the mapping; partnerOrder is null for an order of no partner', schema: orderMapping },
    read: ({ orderId }, principal) => service.mappingOfOrder(orderId, principal),
  });

  readRoute(router, registry, {
    path: '/v1/fulfilment/partner-orders/{platform}/{partnerOrderId}/mapping',
    summary: 'The Kuaishou order a partner order mirrors (ops, admin; merchant for its own orders)',
    roles: ['ops', 'admin', 'merchant'],
    params: { schema: partnerOrderParams, name: 'partner order' },
    response: { description: 'the mapping', schema: orderMapping },
    read: ({ platform, partnerOrderId }, principal) => service.mappingOfPartnerOrder(platform, partnerOrderId, principal),
  });

  listRoute(router, registry, {
    path: '/v1/fulfilment/logistics-exceptions',
    summary: 'Logistics exceptions and their compensation, the newest first; filters shopId, merchantId, kind, status (ops, admin, finance; merchant for its own)',
    roles: ['ops', 'admin', 'finance', 'merchant'],
    query: logisticsExceptionListQuery,
    item: logisticsExceptionItem,
    list: (query, principal) => service.logisticsExceptions(query, principal),
  });

  return router;
}

export const fulfilmentRoutes: RouteFactory = ({ db, openapi }) => createFulfilmentRouter({ service: createFulfilmentService(db), registry: openapi });
