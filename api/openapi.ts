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
  400: { description: 'invalid input (with field-level issues), a body that is not JSON, or a path that cannot be decoded', ...json(errorBody) },
  401: { description: 'missing, invalid or expired token', ...json(errorBody) },
  403: { description: 'the role may not do this (or a merchant would act for another merchant)', ...json(errorBody) },
  404: { description: 'no such resource (for a merchant, also another merchant\'s)', ...json(errorBody) },
  409: { description: 'conflicts with the process state', ...json(errorBody) },
  413: { description: 'request body is larger than the API accepts', ...json(errorBody) },
  415: { description: 'request body in an unsupported charset or content encoding', ...json(errorBody) },
  429: { description: 'too many mutating requests', ...json(errorBody) },
  500: { description: 'something went wrong; quote the request id', ...json(errorBody) },
  503: { description: 'the workflow service is unavailable; retry shortly', ...json(errorBody) },
};

/** What a route that runs an update answers when the process took longer than the wait (api/workflow-updates.ts). */
export const updateStillRunningBody = z.object({
  status: z.literal('accepted'),
  message: z.string(),
  requestId: z.string(),
  accepted: z.boolean().describe('false: the process had not even taken the request in yet'),
  state: z
    .union([z.record(z.string(), z.unknown()), z.null()])
    .describe("where the process stands when the wait ended (null if it could not be read in time); read the outcome later"),
});

/** A route that runs an update on a process answers these besides its own statuses. */
export const updateResponses = {
  202: { description: 'the process did not finish within API_UPDATE_WAIT_MS: the request goes on, this is where it stands', ...json(updateStillRunningBody) },
  422: { description: "a step's data the database refuses: the process waits in needs_attention; the message names the step", ...json(errorBody) },
};

/**
 * What the middleware in front of every /v1 route can answer, whatever the route does: the
 * body parser (400 invalid JSON, 413, 415), authentication (401), the role check (403), the
 * error mapper (500). A mutation is also rate limited (429) and talks to Temporal (503); a
 * path parameter names a record that may not exist (404). describeRoute adds these, so a
 * new route cannot forget them; 409 and any other 404 are the route's own to declare.
 */
function edgeResponses(route: RouteConfig): RouteConfig['responses'] {
  const { 400: bad, 401: unauth, 403: denied, 404: missing, 413: tooLarge, 415: unsupported, 429: limited, 500: failed, 503: unavailable } = errorResponses;
  const hasPathParams = route.request?.params !== undefined;
  const mutation = route.method !== 'get';
  return {
    400: bad,
    401: unauth,
    403: denied,
    ...(hasPathParams ? { 404: missing } : {}),
    413: tooLarge,
    415: unsupported,
    ...(mutation ? { 429: limited, 503: unavailable } : {}),
    500: failed,
  };
}

export { json };

/** Routers describe their routes here with the same zod schemas they parse with. */
export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  return registry;
}

export function describeRoute(registry: OpenAPIRegistry, route: RouteConfig): void {
  registry.registerPath({ security: [{ bearer: [] }], ...route, responses: { ...edgeResponses(route), ...route.responses } });
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
