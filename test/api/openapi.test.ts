import request from 'supertest';
import { enterpriseRequest, individualRequest } from '../support/fixtures';
import { inlineRefs, schemaProblem, type JsonSchema } from '../support/json-schema';
import { startStack, type Stack } from '../support/stack';
import { apiFor, staff, type Api } from './http';

const CALLBACK = '/v1/platform/payment-callbacks';
/** Youzan's OAuth redirect: a browser without our token, proven by its single-use state. */
const OAUTH_CALLBACK = '/v1/bindings/oauth/youzan/callback';

/** The routes the API serves; the document must list exactly these. */
const V1_ROUTES = [
  'GET /v1/after-sales/agents',
  'GET /v1/after-sales/summary',
  'GET /v1/after-sales/tickets',
  'GET /v1/after-sales/tickets/{ticketId}',
  'GET /v1/banned-words',
  'GET /v1/bindings',
  'GET /v1/bindings/oauth/youzan/callback',
  'GET /v1/bindings/{bindingId}',
  'GET /v1/bindings/{bindingId}/products',
  'GET /v1/campaigns',
  'GET /v1/campaigns/{campaignId}',
  'GET /v1/campaigns/{campaignId}/items',
  'GET /v1/catalogue/sync-runs',
  'GET /v1/catalogue/sync-runs/{runId}/stores',
  'GET /v1/category-mappings',
  'GET /v1/enforcement-actions/{actionId}',
  'GET /v1/enforcement-actions/{actionId}/refunds',
  'GET /v1/fee-rates',
  'GET /v1/fulfilment/logistics-exceptions',
  'GET /v1/fulfilment/orders/{orderId}/mapping',
  'GET /v1/fulfilment/partner-orders/{platform}/{partnerOrderId}/mapping',
  'GET /v1/fulfilment/shops/{shopId}/shipping-rate',
  'GET /v1/link-windows',
  'GET /v1/link-windows/{windowId}',
  'GET /v1/merchants/{merchantId}/qualifications',
  'GET /v1/merchants/{merchantId}/statements',
  'GET /v1/merchants/{merchantId}/violations',
  'GET /v1/partner-links',
  'GET /v1/qualification-checks/{month}',
  'GET /v1/risk-findings',
  'GET /v1/settlements',
  'GET /v1/settlements/{period}',
  'GET /v1/shops',
  'GET /v1/shops/{shopId}/closure',
  'GET /v1/shops/{shopId}/deposit',
  'GET /v1/shops/{shopId}/deposit/offline-top-ups',
  'GET /v1/shops/{shopId}/promotion/closure',
  'GET /v1/statements',
  'GET /v1/verifications',
  'GET /v1/verifications/{id}',
  'GET /v1/violations',
  'GET /v1/violations/{caseId}',
  'POST /v1/after-sales/agents',
  'POST /v1/after-sales/tickets',
  'POST /v1/after-sales/tickets/{ticketId}/resolve',
  'POST /v1/after-sales/tickets/{ticketId}/take',
  'POST /v1/banned-words',
  'POST /v1/bindings',
  'POST /v1/bindings/{bindingId}/attention',
  'POST /v1/bindings/{bindingId}/reauthorisation',
  'POST /v1/bindings/{bindingId}/unbind',
  'POST /v1/bindings/{bindingId}/union-authorisation',
  'POST /v1/campaigns',
  'POST /v1/campaigns/{campaignId}/cancel',
  'POST /v1/campaigns/{campaignId}/pause',
  'POST /v1/campaigns/{campaignId}/resume',
  'POST /v1/category-mappings',
  'POST /v1/enforcement-actions',
  'POST /v1/enforcement-actions/{actionId}/approve',
  'POST /v1/enforcement-actions/{actionId}/attention',
  'POST /v1/enforcement-actions/{actionId}/pause',
  'POST /v1/enforcement-actions/{actionId}/reject',
  'POST /v1/enforcement-actions/{actionId}/resume',
  'POST /v1/fee-rates',
  'POST /v1/link-windows',
  'POST /v1/link-windows/{windowId}/attention',
  'POST /v1/link-windows/{windowId}/cancel',
  'POST /v1/link-windows/{windowId}/versions',
  'POST /v1/merchants/{merchantId}/entity-change',
  'POST /v1/merchants/{merchantId}/qualifications',
  'POST /v1/merchants/{merchantId}/qualifications/{qualificationId}/verification',
  'POST /v1/partner-links',
  'POST /v1/platform/payment-callbacks',
  'POST /v1/qualification-checks',
  'POST /v1/settlements',
  'POST /v1/shops/{shopId}/closure',
  'POST /v1/shops/{shopId}/closure/cancel',
  'POST /v1/shops/{shopId}/deposit/deductions',
  'POST /v1/shops/{shopId}/deposit/offline-top-ups',
  'POST /v1/shops/{shopId}/deposit/offline-top-ups/{offlineTopUpId}/approval',
  'POST /v1/shops/{shopId}/deposit/top-ups',
  'POST /v1/shops/{shopId}/promotion/closure',
  'POST /v1/shops/{shopId}/promotion/excess-withdrawal',
  'POST /v1/verifications',
  'POST /v1/verifications/{id}/attention',
  'POST /v1/verifications/{id}/decision',
  'POST /v1/verifications/{id}/resubmission',
  'POST /v1/violations',
  'POST /v1/violations/{caseId}/appeal',
  'POST /v1/violations/{caseId}/appeal-decision',
  'POST /v1/violations/{caseId}/attention',
  'PUT /v1/admin/calendar/{year}',
];

describe('OpenAPI document', () => {
  let stack: Stack;
  let api: Api;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON document
  let doc: any;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
    const res = await request(stack.app).get('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
  const startBodySchema = (): JsonSchema => doc.paths['/v1/verifications'].post.requestBody.content['application/json'].schema;

  test('is OpenAPI 3.1 and lists exactly the /v1 routes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'merchant-ops API', version: expect.any(String) });
    expect(operations().sort()).toEqual(V1_ROUTES);
  });

  test('every documented route but the signed platform callback needs the bearer token and documents its 401 and 403', () => {
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const { [CALLBACK]: _callback, [OAUTH_CALLBACK]: _oauth, ...bearerPaths } = doc.paths as Record<string, Record<string, { security: unknown; responses: object }>>;
    for (const methods of Object.values(bearerPaths)) {
      for (const operation of Object.values(methods)) {
        expect(operation.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });

  describe('every status an operation can answer is documented', () => {
    type Operation = { parameters?: Array<{ in: string }>; responses: Record<string, unknown> };
    // The bearer routes; the platform's signed callback has its own edge (see below).
    const eachOperation = () =>
      Object.entries(doc.paths as Record<string, Record<string, Operation>>)
        .filter(([path]) => path !== CALLBACK && path !== OAUTH_CALLBACK)
        .flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method, path, operation })),
        );
    const statusesOf = (operation: Operation) => Object.keys(operation.responses);
    // Routes with a body limit of their own (a campaign's list: API_CAMPAIGN_BODY_LIMIT, 8 MB), and a body above it.
    const LARGER_BODIES: Record<string, number> = { 'POST /v1/campaigns': 9_000_000 };
    // A path that names no real record; every segment is well formed for its route.
    const concrete = (path: string) =>
      path.replace('{period}', '2020-01').replace('{id}', 'vc_000000000000000000000000').replace('{caseId}', `vio_${'0'.repeat(24)}`).replace(/\{\w+\}/g, 'm-none');

    test('what the middleware in front of every route can answer: 400, 401, 403, 413, 415, 500', () => {
      for (const { name, operation } of eachOperation()) {
        expect({ name, statuses: statusesOf(operation) }).toEqual({ name, statuses: expect.arrayContaining(['400', '401', '403', '413', '415', '500']) });
      }
    });

    test('a mutation can also be rate limited (429) and find Temporal unavailable (503); a route with a path parameter can answer 404', () => {
      for (const { name, method, operation } of eachOperation()) {
        const expected = [...(method === 'post' ? ['429', '503'] : []), ...(operation.parameters?.some((p) => p.in === 'path') ? ['404'] : [])];
        expect({ name, statuses: statusesOf(operation) }).toEqual({ name, statuses: expect.arrayContaining(expected) });
      }
    });

    test('and the app does answer them: invalid JSON, a body too large, an unsupported charset, no token', async () => {
      const token = `Bearer ${await stack.token(staff.admin)}`;
      for (const { name, method, path, operation } of eachOperation()) {
        const send = () => request(stack.app)[method as 'get' | 'post' | 'put'](concrete(path));
        const answers = {
          invalidJson: (await send().set('Authorization', token).set('content-type', 'application/json').send('{"oops":')).status,
          tooLarge: (await send().set('Authorization', token).set('content-type', 'application/json').send(JSON.stringify({ x: 'y'.repeat(LARGER_BODIES[name] ?? 200_000) }))).status,
          charset: (await send().set('Authorization', token).set('content-type', 'application/json; charset=koi8-r').send('{}')).status,
          noToken: (await send()).status,
        };
        expect({ name, answers }).toEqual({ name, answers: { invalidJson: 400, tooLarge: 413, charset: 415, noToken: 401 } });
        for (const status of Object.values(answers)) expect({ name, documented: statusesOf(operation) }).toEqual({ name, documented: expect.arrayContaining([String(status)]) });
      }
    });
  });

  test("the platform's signed callback documents what its own edge answers, and answers it", async () => {
    const operation = doc.paths[CALLBACK].post as { responses: Record<string, unknown> };
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409', '413', '429', '500', '503']));
    // The signature is checked over the raw body before anything parses it: unsigned is a 401 whatever the body.
    const unsigned = await request(stack.app).post(CALLBACK).set('content-type', 'application/json').send('{"oops":');
    expect(unsigned.status).toBe(401);
    const tooLarge = await request(stack.app).post(CALLBACK).set('content-type', 'application/json').send(JSON.stringify({ x: 'y'.repeat(200_000) }));
    expect(tooLarge.status).toBe(413);
  });

  test('every documented operation is served: called with an admin token it never answers "no route"', async () => {
    const caseId = await api.openCase('m-openapi');
    for (const operation of operations()) {
      const [method, template] = operation.split(' ') as [string, string];
      const path = template.replace('{id}', caseId);
      const res = method === 'PUT' ? await api.put(path, staff.admin, {}) : method === 'GET' ? await api.get(path, staff.admin) : await api.post(path, staff.admin, {});
      expect({ operation, status: res.status }).toEqual({ operation, status: expect.any(Number) });
      expect(res.status).not.toBe(404);
      expect(res.body.code).not.toBe('not_found');
    }
    // The check can fail: a path the app does not serve is a 404 "no route".
    const unserved = await api.post('/v1/verifications/' + caseId + '/withdrawal', staff.admin, {});
    expect(unserved.status).toBe(404);
    expect(unserved.body.detail).toContain('no route');
  });

  /** The routes that run an update on a process (api/process-seam.ts runUpdate). */
  const UPDATE_ROUTES = [
    'POST /v1/bindings/{bindingId}/unbind',
    'POST /v1/bindings/{bindingId}/union-authorisation',
    'POST /v1/campaigns/{campaignId}/cancel',
    'POST /v1/campaigns/{campaignId}/pause',
    'POST /v1/campaigns/{campaignId}/resume',
    'POST /v1/enforcement-actions/{actionId}/approve',
    'POST /v1/enforcement-actions/{actionId}/attention',
    'POST /v1/enforcement-actions/{actionId}/pause',
    'POST /v1/enforcement-actions/{actionId}/reject',
    'POST /v1/enforcement-actions/{actionId}/resume',
    'POST /v1/platform/payment-callbacks',
    'POST /v1/shops/{shopId}/closure/cancel',
    'POST /v1/shops/{shopId}/deposit/deductions',
    'POST /v1/shops/{shopId}/deposit/offline-top-ups/{offlineTopUpId}/approval',
    'POST /v1/shops/{shopId}/deposit/top-ups',
    'POST /v1/shops/{shopId}/promotion/excess-withdrawal',
    'POST /v1/verifications/{id}/attention',
    'POST /v1/verifications/{id}/decision',
    'POST /v1/verifications/{id}/resubmission',
    'POST /v1/violations/{caseId}/appeal',
    'POST /v1/violations/{caseId}/appeal-decision',
    'POST /v1/violations/{caseId}/attention',
  ];

  test.each(UPDATE_ROUTES)('%s documents its late answer (202 with the state) and a step the database refused (422)', (route) => {
    const [method, path] = route.split(' ') as [string, string];
    const responses = doc.paths[path][method.toLowerCase()].responses;
    const late: JsonSchema = responses['202']?.content['application/json'].schema;
    expect(late).toMatchObject({ required: expect.arrayContaining(['status', 'accepted', 'state', 'requestId']) });
    expect(schemaProblem(late, { status: 'accepted', message: 'the top-up is still running', requestId: 'r-1', accepted: true, state: { balanceFen: 0 } })).toBeUndefined();
    expect(schemaProblem(late, { status: 'accepted', message: 'waiting', requestId: 'r-1', accepted: false, state: null })).toBeUndefined();
    expect(responses['422']?.content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
  });

  test('the platform callback is signed, not bearer-authenticated, and documents every status it answers', () => {
    const operation = doc.paths[CALLBACK].post;
    expect(operation.security).toEqual([]);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '202', '400', '401', '404', '409', '413', '422', '429', '500', '503']);
    expect(operation.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual(['header:x-platform-signature', 'header:x-platform-timestamp']);
    const approval = doc.paths['/v1/shops/{shopId}/deposit/offline-top-ups/{offlineTopUpId}/approval'].post;
    expect(Object.keys(approval.responses).sort()).toEqual(['200', '202', '400', '401', '403', '404', '409', '413', '415', '422', '429', '500', '503']);
    const topUp = doc.paths['/v1/shops/{shopId}/deposit/top-ups'].post.requestBody.content['application/json'].schema;
    expect(topUp).toMatchObject({ required: ['paymentId'], additionalProperties: false });
    expect(schemaProblem(topUp, { amountFen: 100, paymentReference: 'anything' })).toBeDefined();
  });

  test('the start body schema is strict and refuses what the route refuses', async () => {
    const schema = startBodySchema();
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['merchantId', 'entityType', 'legalName', 'documents']));

    const refused: Array<[string, Record<string, unknown>]> = [
      ['an unknown field', { ...individualRequest('m-doc-1'), nickname: 'zs' }],
      ['no documents', { ...individualRequest('m-doc-2'), documents: [] }],
      ['a bad entity type', { ...individualRequest('m-doc-3'), entityType: 'partnership' }],
      ['a bad merchant id', { ...individualRequest('m-doc-4'), merchantId: 'm doc 4!' }],
      ['a nested unknown field', { ...enterpriseRequest('m-doc-5'), legalRepresentative: { name: '李四', idNumber: '1', phone: '1' } }],
    ];
    for (const [what, body] of refused) {
      expect({ what, problem: schemaProblem(schema, body) }).toEqual({ what, problem: expect.any(String) });
      const res = await api.start(staff.admin, body);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
    }

    // And both accept a good body.
    const good = individualRequest('m-doc-ok');
    expect(schemaProblem(schema, good)).toBeUndefined();
    expect((await api.start(staff.admin, good)).status).toBe(202);
  });

  test('the decision body schema names the three decisions and is strict', () => {
    const schema: JsonSchema = doc.paths['/v1/verifications/{id}/decision'].post.requestBody.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties?.decision?.enum).toEqual(['approve', 'reject', 'request_info']);
    expect(schemaProblem(schema, { decision: 'approve', comment: 'x' })).toBeDefined();
    const params = doc.paths['/v1/verifications/{id}/decision'].post.parameters;
    expect(params).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
  });

  describe('errors are problem documents (RFC 9457), and every response shows an example', () => {
    type Media = { schema?: JsonSchema & { $ref?: string }; example?: unknown; examples?: unknown };
    const eachResponse = () =>
      Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, Media> }> }>>).flatMap(([path, methods]) =>
        Object.entries(methods).flatMap(([method, operation]) =>
          Object.entries(operation.responses).map(([status, response]) => ({ name: `${method.toUpperCase()} ${path} ${status}`, status: Number(status), content: response.content ?? {} })),
        ),
      );

    test('every error response is application/problem+json over the shared Problem schema, and only that', () => {
      expect(doc.components.schemas.Problem).toMatchObject({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code']) });
      const errors = eachResponse().filter((r) => r.status >= 400);
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>)) {
        for (const [method, operation] of Object.entries(methods)) {
          for (const status of ['429', '503'].filter((s) => operation.responses[s])) {
            expect({ at: `${method} ${path} ${status}`, headers: operation.responses[status]!.headers }).toEqual({ at: `${method} ${path} ${status}`, headers: { 'Retry-After': expect.objectContaining({ schema: { type: 'integer' } }) } });
          }
        }
      }
      expect(errors.length).toBeGreaterThan(V1_ROUTES.length * 5);
      for (const { name, content } of errors) {
        expect({ name, types: Object.keys(content) }).toEqual({ name, types: ['application/problem+json'] });
        const schema = content['application/problem+json']!.schema!;
        // The settlement's 409 adds its own members to the Problem schema.
        const isProblem = schema.$ref === '#/components/schemas/Problem' || schemaProblem(inlineRefs({ components: doc.components, schema }).schema, { type: '/problems/x', title: 't', status: 409, detail: 'd', instance: 'r', code: 'period_not_ended', earliestRunDate: '2026-12-01', timeZone: 'Asia/Shanghai' }) === undefined;
        expect({ name, isProblem }).toEqual({ name, isProblem: true });
      }
    });

    test('every operation shows an example of every response, success and error alike, and each example fits its schema', () => {
      const inlined = inlineRefs(doc);
      const perOperation = new Map<string, { success: number; error: number }>();
      for (const { name, status, content } of eachResponse()) {
        const operation = name.split(' ').slice(0, 2).join(' ');
        const counts = perOperation.get(operation) ?? { success: 0, error: 0 };
        for (const [type, media] of Object.entries(content)) {
          expect({ name, type, hasExample: media.example !== undefined }).toEqual({ name, type, hasExample: true });
          const [path, method] = [name.split(' ')[1]!, name.split(' ')[0]!.toLowerCase()];
          const schema = inlined.paths[path][method].responses[String(status)].content[type].schema as JsonSchema;
          expect({ name, problem: schemaProblem(schema, media.example) }).toEqual({ name, problem: undefined });
          if (status >= 400) counts.error += 1;
          else counts.success += 1;
        }
        perOperation.set(operation, counts);
      }
      expect([...perOperation.keys()].sort()).toEqual(V1_ROUTES);
      for (const [operation, counts] of perOperation) {
        expect({ operation, success: counts.success > 0, error: counts.error > 0 }).toEqual({ operation, success: true, error: true });
      }
    });

    test('an error example is a problem whose type is served at its URI, with the title the API answers with', async () => {
      const example = doc.paths['/v1/verifications'].post.responses['409'].content['application/problem+json'].example;
      expect(example).toMatchObject({ type: '/problems/conflict', status: 409, code: 'conflict', title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
      const served = await request(stack.app).get(example.type);
      expect(served.status).toBe(200);
      expect(served.body).toMatchObject({ type: '/problems/conflict', code: 'conflict', status: 409, title: example.title, description: expect.any(String) });
      const listed = await request(stack.app).get('/problems');
      expect(listed.body.map((t: { code: string }) => t.code)).toEqual(expect.arrayContaining(['invalid_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'rate_limited', 'internal', 'unavailable']));
      const unknown = await request(stack.app).get('/problems/no_such_code');
      expect(unknown.status).toBe(404);
      expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  test('/docs serves the Swagger UI page, wired to this document', async () => {
    const page = await request(stack.app).get('/docs').redirects(1);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('swagger-ui');
    const init = await request(stack.app).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('"/v1/verifications/{id}/resubmission"');
  });
});
