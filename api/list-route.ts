import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { z } from 'zod';
import { merchantNotFound, requireRole, type Principal, type Role } from './auth';
import { describeRoute, json } from './openapi';
import { pageOf } from './pagination';
import { parse } from './validate';

export interface ListRoute<Q extends z.ZodType> {
  /** As the document shows it, `/v1/violations`; served as `/violations` under /v1. */
  path: string;
  summary: string;
  roles: Role[];
  /** The filters and paging parameters, strict: an unknown parameter is a 400, not ignored. */
  query: Q;
  item: z.ZodType;
  list: (query: z.output<Q>, principal: Principal) => Promise<{ items: unknown[]; nextCursor: string | null }>;
}

/**
 * A GET route that answers one page of a list (api/pagination.ts), described with the query
 * schema it parses with, as readRoute does for a record.
 */
export function listRoute<Q extends z.ZodType>(router: Router, registry: OpenAPIRegistry, route: ListRoute<Q>): void {
  if (!route.path.startsWith('/v1/')) throw new Error(`a list route is served under /v1: ${route.path}`);
  describeRoute(registry, {
    method: 'get',
    path: route.path,
    summary: route.summary,
    request: { query: route.query as unknown as z.ZodObject },
    responses: { 200: { description: 'one page; nextCursor continues it', ...json(pageOf(route.item)) } },
  });
  router.get(route.path.slice('/v1'.length), requireRole(...route.roles), async (req, res) => {
    res.json(await route.list(parse(route.query, req.query, 'query'), req.principal!));
  });
}

/**
 * The merchant a list is about. A merchant's token lists its own merchant only, and naming
 * another merchant is answered as GET /v1/merchants/{id}/… answers it (404, whether that
 * merchant exists or not); staff list any merchant, or all.
 */
export function merchantScope(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.role !== 'merchant') return requested;
  if (requested !== undefined && requested !== principal.merchantId) throw merchantNotFound(requested);
  return principal.merchantId;
}
