import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { exampleOf, type SchemaNode } from './openapi-examples';
import { exampleProblem, PROBLEM_CONTENT_TYPE, problemSchema, type Problem } from './problems';

/** The body of every error (api/problems.ts): an RFC 9457 problem document. */
export const errorBody = problemSchema;

const json = (schema: z.ZodType, example?: unknown) => ({ content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } } });

/** An error response: the shared Problem schema as application/problem+json, with an example of it. */
export const problemContent = (example: Problem) => ({ content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema, example } } });

const retryAfter = { 'Retry-After': { description: 'seconds to wait before sending the request again', schema: { type: 'integer' as const } } };

export const errorResponses = {
  400: { description: 'invalid input (with field-level issues), a body that is not JSON, or a path that cannot be decoded', ...problemContent(exampleProblem('invalid_request', 'request body is invalid', { issues: [{ path: 'legalName', message: 'Invalid input: expected string, received undefined' }] })) },
  401: { description: 'missing, invalid or expired token', ...problemContent(exampleProblem('unauthorized', 'token has expired')) },
  403: { description: 'the role may not do this (or a merchant would act for another merchant)', ...problemContent(exampleProblem('forbidden', 'role merchant may not do this; needs one of ops, admin')) },
  404: { description: 'no such resource (for a merchant, also another merchant\'s)', ...problemContent(exampleProblem('not_found', 'shop shop-m-1001 does not exist')) },
  409: { description: 'conflicts with the process state', ...problemContent(exampleProblem('conflict', 'merchant m-1001 already has an open verification case', { caseId: 'vc_0123456789abcdefghijklmn' })) },
  413: { description: 'request body is larger than the API accepts', ...problemContent(exampleProblem('payload_too_large', 'request body is too large')) },
  415: { description: 'request body in an unsupported charset or content encoding', ...problemContent(exampleProblem('unsupported_media_type', 'the request cannot be read as sent')) },
  429: { description: 'too many requests; Retry-After says when to send again', headers: retryAfter, ...problemContent(exampleProblem('rate_limited', 'too many requests; slow down and retry')) },
  500: { description: 'something went wrong; quote the request id (instance)', ...problemContent(exampleProblem('internal', 'something went wrong; quote the request id')) },
  503: { description: 'the database or the workflow service cannot be reached, or the request cannot be audited; nothing was left half-done: retry after Retry-After seconds', headers: retryAfter, ...problemContent(exampleProblem('unavailable', 'the workflow service is unavailable; retry shortly', { dependency: 'temporal' })) },
};

/** What a route that runs an update answers when the process took longer than the wait (api/process-seam.ts). */
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
  202: {
    description: 'the process did not finish within API_UPDATE_WAIT_MS: the request goes on, this is where it stands',
    ...json(updateStillRunningBody, { status: 'accepted', message: 'the top-up is still running; this is where it stands now', requestId: '8f14e45f-ceea-4f6e-9b3a-1c0a5d2b7e01', accepted: true, state: { status: 'open', balanceFen: 50_000 } }),
  },
  422: { description: "a step's data the database refuses: the process waits in needs_attention; the detail names the step", ...problemContent(exampleProblem('unprocessable', 'the step "record deduction" was refused by the database; the process waits in needs_attention')) },
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
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'merchant-ops API',
      version: '0.1.0',
      description: 'Start and steer the long merchant processes. Every /v1 route needs a bearer JWT.',
    },
    servers: [{ url: '/' }],
  });
  withExamples(document);
  return document;
}

type GeneratedDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/** Every response of every operation shows an example: its own, or one made from its schema (api/openapi-examples.ts). */
function withExamples(document: GeneratedDocument): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaNode>;
  const resolve = (ref: string) => schemas[ref.replace('#/components/schemas/', '')];
  for (const methods of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(methods as Record<string, { responses?: Record<string, { content?: Record<string, { schema?: SchemaNode; example?: unknown; examples?: unknown }> }> }>)) {
      for (const response of Object.values(operation.responses ?? {})) {
        for (const media of Object.values(response.content ?? {})) {
          if (media.example === undefined && media.examples === undefined && media.schema) media.example = exampleOf(media.schema, '', resolve);
        }
      }
    }
  }
}
