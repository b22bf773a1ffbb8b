import request from 'supertest';
import { knex } from 'knex';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { Client, Connection } from '@temporalio/client';
import { unreachableDependency } from '../../api/outages';
import { PROBLEM_TYPES, problem } from '../../api/problems';
import { ProcessNotRecorded } from '../../domain/errors';
import { individualRequest } from '../support/fixtures';
import { asOwner } from '../support/owner-sql';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectProblem, staff, type Api } from './http';

/** Every error status the API answers is the same problem document (RFC 9457), whichever layer answered it. */
describe('errors are problem documents', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });
  const bearer = async () => `Bearer ${await stack.token(staff.ops)}`;

  test('a sample of every status: body parser, authentication, roles, routes, records, conflicts, server faults', async () => {
    const caseId = await api.openCase('m-problems');
    const answers: Array<[number, string, request.Response]> = [
      [400, 'invalid_request', await api.start(staff.ops, { merchantId: 'm-problems-2' })],
      [400, 'invalid_json', await request(stack.app).post('/v1/verifications').set('Authorization', await bearer()).set('content-type', 'application/json').send('{"oops":')],
      [401, 'unauthorized', await request(stack.app).post('/v1/verifications').send({})],
      [401, 'invalid_signature', await request(stack.app).post('/v1/platform/payment-callbacks').set('content-type', 'application/json').send('{}')],
      [403, 'forbidden', await api.decide(caseId, staff.finance, { decision: 'approve' })],
      [404, 'not_found', await api.get('/v1/no-such-route', staff.ops)],
      [404, 'not_found', await api.view('vc_000000000000000000000000', staff.ops)],
      [409, 'conflict', await api.start(staff.ops, individualRequest('m-problems'))],
      [413, 'payload_too_large', await request(stack.app).post('/v1/verifications').set('Authorization', await bearer()).set('content-type', 'application/json').send(JSON.stringify({ x: 'y'.repeat(200_000) }))],
      [415, 'unsupported_media_type', await request(stack.app).post('/v1/verifications').set('Authorization', await bearer()).set('content-type', 'application/json; charset=koi8-r').send('{}')],
    ];
    for (const [status, code, res] of answers) expectProblem(res, status, code, { detail: expect.any(String), ...(code === 'invalid_request' ? { issues: expect.any(Array) } : {}), ...(code === 'conflict' ? { caseId } : {}) });
    // Each type is served where it points, with the title the answer carried.
    for (const [, code, res] of answers) {
      const served = await request(stack.app).get(res.body.type);
      expect(served.body).toMatchObject({ code, title: res.body.title });
    }
  });

  test('a 500 hides the database: no SQL, no table, the request id to find it', async () => {
    await asOwner(stack.db, 'ALTER TABLE violation_cases RENAME TO violation_cases_hidden');
    try {
      const res = await api.get(`/v1/violations/vio_${'0'.repeat(24)}`, staff.ops);
      expectProblem(res, 500, 'internal', { detail: 'something went wrong; quote the request id' });
      expect(res.text).not.toMatch(/select|relation|violation_cases/i);
    } finally {
      await asOwner(stack.db, 'ALTER TABLE violation_cases_hidden RENAME TO violation_cases');
    }
  });

  test('an extension member never overrides a standard one, and a code outside the catalogue is about:blank with the status phrase', () => {
    expect(problem(409, 'conflict', 'd', 'r-1', { status: 'approved', type: 'x', caseId: 'vc_1' })).toEqual({ type: '/problems/conflict', title: PROBLEM_TYPES.conflict.title, status: 409, detail: 'd', instance: 'r-1', code: 'conflict', caseId: 'vc_1' });
    expect(problem(418, 'teapot', 'd', 'r-1')).toMatchObject({ type: 'about:blank', title: "I'm a Teapot", status: 418, code: 'teapot' });
  });
});

/** The one classifier (api/outages.ts), on the errors the real drivers raise. */
describe('what counts as an outage', () => {
  test('node-postgres refused: the database', async () => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    const refused = await client.connect().then(() => undefined, (err: unknown) => err);
    expect(unreachableDependency(refused)).toBe('database');

  }, 60_000);

  test('knex with a destroyed pool or no connection in time: the database', async () => {
    const destroyed = knex({ client: 'pg', connection: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
    await destroyed.destroy();
    expect(unreachableDependency(await destroyed.raw('select 1').then(() => undefined, (err: unknown) => err))).toBe('database');

    const busy = knex({ client: 'pg', connection: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', pool: { min: 0, max: 1 }, acquireConnectionTimeout: 200 });
    try {
      await busy.transaction(async () => {
        const timedOut = await busy.raw('select 1').then(() => undefined, (err: unknown) => err);
        expect(unreachableDependency(timedOut)).toBe('database');
      });
    } finally {
      await busy.destroy();
    }

  }, 60_000);

  test('PGlite closed, and a failure wrapped as a start whose rows could not be written: the database', async () => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    const refused = await client.connect().then(() => undefined, (err: unknown) => err);
    const lite = new PGlite();
    await lite.close();
    expect(unreachableDependency(await lite.query('select 1').then(() => undefined, (err: unknown) => err))).toBe('database');
    // Wrapped, as a start whose rows could not be written raises it.
    expect(unreachableDependency(new ProcessNotRecorded('the case', { cause: refused }))).toBe('database');
  }, 60_000);

  test('a Temporal client on a closed port: Temporal', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    try {
      const failed = await new Client({ connection }).workflow.start('x', { workflowId: 'w', taskQueue: 'q' }).then(() => undefined, (err: unknown) => err);
      expect(unreachableDependency(failed)).toBe('temporal');
    } finally {
      await connection.close();
    }
  });

  test('a fault of ours, or the database refusing a query, is no outage', () => {
    expect(unreachableDependency(new Error('connect ECONNREFUSED 10.0.0.7:5432'))).toBeUndefined();
    expect(unreachableDependency(Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }))).toBeUndefined();
    expect(unreachableDependency(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeUndefined();
    expect(unreachableDependency(undefined)).toBeUndefined();
  });
});
