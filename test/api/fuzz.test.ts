import fc from 'fast-check';
import request from 'supertest';
import type { TokenClaims } from '../../security/tokens';
import { individualRequest } from '../support/fixtures';
import { arbitraryOf, inlineRefs, oddJson, oddStrings, schemaProblem, type JsonSchema, type KnownValues } from '../support/json-schema';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff } from './http';

/**
 * A property-based fuzz of the whole API over its own OpenAPI document: for every operation,
 * requests built from the documented schemas (mostly valid, some mutated, some nonsense), by
 * every role, against the real app, worker and database. Whatever is sent, the answer is
 * never a 5xx, its status is one the operation documents, and its body matches the schema
 * documented for that status.
 *
 * Bounded and repeatable: a fixed seed (FUZZ_SEED to change it) and FUZZ_RUNS runs per
 * operation. A failure names the operation, the seed and the counterexample.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
/** An answer slower than this is a failure: a request must never hang on a stuck process. */
const ANSWER_WITHIN_MS = 10_000;

interface Operation {
  name: string;
  method: 'get' | 'post';
  path: string;
  parameters: Array<{ name: string; in: string; schema: JsonSchema }>;
  body?: JsonSchema;
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

// Path segments no encoder would produce: broken percent-escapes and an encoded NUL.
const RAW_SEGMENTS = ['%E0%A4%A', '%', '%00', '%C0%AF', '%FF'];

describe('API fuzz over the OpenAPI document', () => {
  let stack: Stack;
  let operations: Operation[];
  let known: KnownValues;
  const owner = 'm-fuzz';
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '100000' });
    const api = apiFor(stack);
    const { shopId } = await openShop(stack, owner);
    const verificationCase = await api.openCase('m-fuzz-case');
    const opened = await api.post('/v1/violations', staff.ops, {
      reference: 'fuzz-case-1',
      merchantId: owner,
      shopId,
      type: 'other',
      level: 'general',
      evidence: { summary: 'fuzz', productIds: [] },
    });
    if (opened.status !== 201) throw new Error(`could not open a violation case: ${opened.status} ${JSON.stringify(opened.body)}`);
    // Records that exist, so requests reach past "not found" into the processes.
    known = {
      shopId: [shopId],
      merchantId: [owner, 'm-fuzz-case'],
      id: [verificationCase],
      caseId: [opened.body.caseId],
      period: ['2026-10', '2026-11'],
    };

    const doc = inlineRefs((await request(stack.app).get('/openapi.json')).body);
    type DocOperation = { parameters?: Operation['parameters']; requestBody?: { content: { 'application/json': { schema: JsonSchema } } }; responses: Operation['responses'] };
    operations = Object.entries(doc.paths as Record<string, Record<string, DocOperation>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        name: `${method.toUpperCase()} ${path}`,
        method: method as Operation['method'],
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content['application/json'].schema,
        responses: op.responses,
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await stack?.teardown();
  });

  /** Who asks: every role, the owner and another merchant; now and then no token or a forged one. */
  const who: fc.Arbitrary<TokenClaims | 'no token' | 'forged token'> = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(staff.ops, staff.reviewer, staff.finance, staff.admin, merchant(owner), merchant('m-fuzz-other')) },
    { weight: 1, arbitrary: fc.constantFrom('no token' as const, 'forged token' as const) },
  );

  /** A path segment: from the parameter's schema (or a record that exists), an odd string, or raw bytes. */
  const segment = (schema: JsonSchema, name: string): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 4, arbitrary: arbitraryOf(schema, known, name).map((v) => encodeURIComponent(String(v))) },
      { weight: 1, arbitrary: oddStrings.map((s) => encodeURIComponent(s)).filter((s) => s.length > 0) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    );

  /** A body: valid from its schema, or with a field dropped, added or replaced, or any JSON, or not JSON at all. */
  const body = (schema: JsonSchema | undefined, examples: unknown[]): fc.Arbitrary<{ json?: unknown; raw?: string }> => {
    const valid = schema ? arbitraryOf(schema, known) : fc.constant({});
    const asObject = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
    return fc.oneof(
      { weight: 4, arbitrary: valid.map((json) => ({ json })) },
      ...(examples.length > 0 ? [{ weight: 2, arbitrary: fc.constantFrom(...examples).map((json) => ({ json })) }] : []),
      {
        weight: 1,
        arbitrary: fc.tuple(valid, fc.nat()).map(([v, i]) => {
          const o = { ...asObject(v) };
          const keys = Object.keys(o);
          if (keys.length > 0) delete o[keys[i % keys.length]!];
          return { json: o };
        }),
      },
      { weight: 1, arbitrary: fc.tuple(valid, fc.string({ minLength: 1, maxLength: 20 }), oddJson).map(([v, k, x]) => ({ json: { ...asObject(v), [k]: x } })) },
      {
        weight: 2,
        arbitrary: fc.tuple(valid, fc.nat(), oddJson).map(([v, i, x]) => {
          const o = { ...asObject(v) };
          const keys = Object.keys(o);
          if (keys.length > 0) o[keys[i % keys.length]!] = x;
          return { json: o };
        }),
      },
      { weight: 1, arbitrary: oddJson.map((json) => ({ json })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((raw) => ({ raw })) },
    );
  };

  // Valid bodies a schema alone cannot produce (check digits), so the happy paths are fuzzed too.
  const examplesFor = (operation: Operation): unknown[] =>
    operation.name === 'POST /v1/verifications' ? [individualRequest('m-fuzz-new'), individualRequest(owner), individualRequest('m-fuzz-other')] : [];

  async function send(operation: Operation, claims: TokenClaims | 'no token' | 'forged token', segments: Record<string, string>, payload: { json?: unknown; raw?: string }) {
    const path = operation.path.replace(/\{(\w+)\}/g, (_m, name: string) => segments[name]!);
    const req = operation.method === 'get' ? request(stack.app).get(path) : request(stack.app).post(path);
    if (claims === 'forged token') req.set('Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.');
    else if (claims !== 'no token') req.set('Authorization', `Bearer ${await stack.token(claims)}`);
    req.timeout(ANSWER_WITHIN_MS);
    if (operation.method === 'get') return { path, res: await req };
    const text = payload.raw !== undefined ? payload.raw : JSON.stringify(payload.json);
    return { path, res: await req.set('content-type', 'application/json').send(text) };
  }

  /** Why an answer breaks the document, or undefined. */
  function answerProblem(operation: Operation, res: request.Response): string | undefined {
    if (res.status >= 500) return `a ${res.status}: ${JSON.stringify(res.body)}`;
    const documented = operation.responses[String(res.status)];
    if (!documented) return `status ${res.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`;
    // An error is a problem document (RFC 9457), anything else plain JSON.
    const mediaType = res.status >= 400 ? 'application/problem+json' : 'application/json';
    const schema = documented.content?.[mediaType]?.schema;
    if (!schema) return `status ${res.status} documents no ${mediaType} body`;
    if (!String(res.headers['content-type']).startsWith(mediaType)) return `content-type ${res.headers['content-type']}`;
    const problem = schemaProblem(schema, res.body);
    return problem ? `body breaks the ${res.status} schema: ${problem}; body ${JSON.stringify(res.body).slice(0, 500)}` : undefined;
  }

  test(`every operation, ${RUNS} requests each (seed ${SEED}): no 5xx, only documented statuses, bodies as documented`, async () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const failures: string[] = [];
    const statuses = new Map<string, Set<number>>();
    for (const [index, operation] of operations.entries()) {
      const seed = SEED + index;
      const params = operation.parameters.filter((p) => p.in === 'path');
      const segments = fc.record(Object.fromEntries(params.map((p) => [p.name, segment(p.schema, p.name)])));
      const property = fc.asyncProperty(who, segments, body(operation.body, examplesFor(operation)), async (claims, segs, payload) => {
        const { path, res } = await send(operation, claims, segs as Record<string, string>, payload);
        statuses.set(operation.name, (statuses.get(operation.name) ?? new Set()).add(res.status));
        const problem = answerProblem(operation, res);
        if (problem) throw new Error(`${operation.method.toUpperCase()} ${path} as ${typeof claims === 'string' ? claims : claims.role}: ${problem}`);
      });
      try {
        await fc.assert(property, { seed, numRuns: RUNS, endOnFailure: true });
      } catch (err) {
        failures.push(`${operation.name} (seed ${seed}): ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    // The fuzz reached past the validators: some operation answered each of these.
    const seen = new Set([...statuses.values()].flatMap((s) => [...s]));
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 400, 401, 403, 404]));
  }, 120_000);

  test('the checks can fail: an undocumented status or a body off its schema is caught', () => {
    const operation = operations.find((o) => o.name === 'GET /v1/shops/{shopId}/deposit')!;
    const answer = (status: number, body: unknown, contentType = 'application/problem+json; charset=utf-8') => ({ status, body, headers: { 'content-type': contentType } }) as unknown as request.Response;
    const missing = { type: '/problems/not_found', title: 'Not found', status: 404, detail: 'm', instance: 'r', code: 'not_found' };
    expect(answerProblem(operation, answer(418, {}))).toMatch(/not documented/);
    expect(answerProblem(operation, answer(500, { code: 'internal' }))).toMatch(/a 500/);
    expect(answerProblem(operation, answer(404, { ...missing, detail: 1 }))).toMatch(/detail: integer is not string/);
    expect(answerProblem(operation, answer(404, missing, 'application/json; charset=utf-8'))).toMatch(/content-type/);
    expect(answerProblem(operation, answer(404, missing))).toBeUndefined();
  });
});
