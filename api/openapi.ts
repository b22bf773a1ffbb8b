import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/** Error body every route may return; see api/errors.ts. */
export const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  requestId: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

export const errorResponses = {
  400: { description: 'invalid input, with field-level issues', ...json(errorBody) },
  401: { description: 'missing, invalid or expired token', ...json(errorBody) },
  403: { description: 'role or merchant not allowed', ...json(errorBody) },
  404: { description: 'no such resource', ...json(errorBody) },
  409: { description: 'conflicts with the process state', ...json(errorBody) },
  429: { description: 'too many mutating requests', ...json(errorBody) },
};

export { json };

/** Routers describe their routes here with the same zod schemas they parse with. */
export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  return registry;
}

export function describeRoute(registry: OpenAPIRegistry, route: RouteConfig): void {
  registry.registerPath({ security: [{ bearer: [] }], ...route });
}

export function generateOpenApiDocument(registry: OpenAPIRegistry) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'merchant-ops API',
      version: '0.1.0',
      description: 'Start and steer the long merchant processes. Every /v1 route needs a bearer JWT.',
    },
    servers: [{ url: '/' }],
  });
}
