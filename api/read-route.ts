import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, Router } from 'express';
import type { z } from 'zod';
import { requireRole, type Principal, type Role } from './auth';
import { describeRoute, json } from './openapi';
import { parse } from './validate';

export interface ReadRoute<P extends z.ZodObject> {
  /** As the document shows it, `/v1/settlements/{period}`; served as `/settlements/:period` under /v1. */
  path: string;
  summary: string;
  roles: Role[];
  /** The path parameters, parsed before `read` runs, and how a 400 names them ('case id'). */
  params: { schema: P; name: string };
  response: { description: string; schema: z.ZodType };
  read: (params: z.output<P>, principal: Principal, req: Request) => Promise<unknown>;
}

/**
 * A GET route that reads what its path names. It is described with the schema it parses with
 * and served at the path it is described under, so the document and the route cannot drift
 * apart; describeRoute adds the statuses every route shares (400, 401, 403, and 404 for a path
 * parameter).
 */
export function readRoute<P extends z.ZodObject>(router: Router, registry: OpenAPIRegistry, route: ReadRoute<P>): void {
  if (!route.path.startsWith('/v1/')) throw new Error(`a read route is served under /v1: ${route.path}`);
  describeRoute(registry, {
    method: 'get',
    path: route.path,
    summary: route.summary,
    request: { params: route.params.schema },
    responses: { 200: { description: route.response.description, ...json(route.response.schema) } },
  });
  router.get(route.path.slice('/v1'.length).replace(/\{(\w+)\}/g, ':$1'), requireRole(...route.roles), async (req, res) => {
    res.json(await route.read(parse(route.params.schema, req.params, route.params.name), req.principal!, req));
  });
}
