import pino from 'pino';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { createDb, type Db } from '../../db/connection';
import { piiVaultFrom } from '../../security/pii';
import { enterpriseRequest, eventually, individualRequest } from '../support/fixtures';
import { asOwner } from '../support/owner-sql';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectProblem, staff, type Api, type AuditRow } from './http';

/**
 * Issue 12.5: when the database or Temporal cannot be reached, a request is a 503 problem with
 * Retry-After, never a 500, and nothing is left half-done: no workflow without its rows, no rows
 * without their workflow, no terminated run, and an audit row for whatever was done.
 */
describe('outages answer 503 and leave nothing half-done', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const appWith = (deps: { db?: Db; temporal?: Client }) =>
    createApp({ config: stack.config, db: deps.db ?? stack.db, temporal: deps.temporal ?? stack.env.client, logger: pino({ level: 'silent' }), vault: piiVaultFrom(stack.config) });
  const post = async (app: ReturnType<typeof appWith>, path: string, body: unknown, claims = staff.ops) =>
    request(app).post(path).set('Authorization', `Bearer ${await stack.token(claims)}`).send(body as object);
  const auditRowsOf = (requestId: string) => stack.db<AuditRow>('audit_log').where({ request_id: requestId }).orderBy('id');

  describe('Temporal unreachable (a real client on a closed port)', () => {
    let connection: Connection;
    let app: ReturnType<typeof appWith>;
    beforeAll(() => {
      // Without the client's retry interceptor, which would retry UNAVAILABLE for ~20 s first.
      connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
      app = appWith({ temporal: new Client({ connection }) });
    });
    afterAll(async () => {
      await connection?.close();
    });

    test('a review start: 503 with Retry-After, its rows taken back, no workflow, and the audit trail records the failure', async () => {
      const res = await post(app, '/v1/verifications', individualRequest('m-outage-review'));
      expectProblem(res, 503, 'unavailable', { detail: 'the workflow service is unavailable; retry shortly', dependency: 'temporal' });
      await api.expectNothingStartedFor('m-outage-review');
      const rows = await eventually(() => auditRowsOf(res.headers['x-request-id']!), (found) => found.length === 2, 5_000);
      expect(rows.map((r) => [r.outcome, r.status_code])).toEqual([
        ['attempted', null],
        ['failed', 503],
      ]);
    });

    test('a violation case (its start joins a run going under its id): 503, no case under the reference, and the same request succeeds once Temporal is back', async () => {
      const { shopId } = await openShop(stack, 'm-outage-vio');
      const body = { merchantId: 'm-outage-vio', shopId, type: 'other', level: 'general', reference: 'ticket-outage-1', evidence: { summary: 'seen by ops', productIds: [] } };
      const res = await post(app, '/v1/violations', body);
      expectProblem(res, 503, 'unavailable', { detail: expect.any(String), dependency: 'temporal' });
      expect(await stack.db('violation_cases').where({ reference: 'ticket-outage-1' })).toEqual([]);
      expect((await api.post('/v1/violations', staff.ops, body)).status).toBe(201);
    });

    test('a shop closure: 503 and no active closure (its row cancelled, docs/rules.md §2)', async () => {
      const { shopId } = await openShop(stack, 'm-outage-close');
      const res = await post(app, `/v1/shops/${shopId}/closure`, {});
      expectProblem(res, 503, 'unavailable', { detail: expect.any(String), dependency: 'temporal' });
      expect(await stack.db('shop_closures').where({ shop_id: shopId }).whereNot({ status: 'cancelled' })).toEqual([]);
    });

    test('/health/ready: 503 with Retry-After, naming Temporal', async () => {
      const ready = await request(app).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers['retry-after']).toMatch(/^\d+$/);
      expect(ready.body).toMatchObject({ status: 'unavailable', database: 'ok', temporal: 'unavailable' });
    });
  });

  describe('database unreachable', () => {
    const dead = () => createDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });

    test('a mutation is refused before anything is done: its audit attempt cannot be written, so no workflow starts', async () => {
      const db = dead();
      try {
        const app = appWith({ db });
        const res = await post(app, '/v1/verifications', individualRequest('m-outage-db'));
        expectProblem(res, 503, 'unavailable', { detail: 'the audit log cannot be written; nothing was done, retry shortly', dependency: 'database' });
        expect(await api.workflowExists('m-outage-db')).toBe(false);
        expect(await auditRowsOf(res.headers['x-request-id']!)).toEqual([]);
      } finally {
        await db.destroy();
      }
    });

    test('a read on a refused connection, and on a destroyed pool, is a 503, never a 500 with the driver message', async () => {
      const refused = dead();
      const destroyed = createDb({ databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
      await destroyed.destroy();
      try {
        for (const db of [refused, destroyed]) {
          const res = await request(appWith({ db }))
            .get('/v1/verifications/vc_000000000000000000000000')
            .set('Authorization', `Bearer ${await stack.token(staff.ops)}`);
          expectProblem(res, 503, 'unavailable', { detail: 'the database is unavailable; retry shortly', dependency: 'database' });
          expect(res.text).not.toMatch(/ECONNREFUSED|acquire|127\.0\.0\.1/);
        }
      } finally {
        await refused.destroy();
      }
    });

    test('/health/ready: 503 with Retry-After, naming the database', async () => {
      const db = dead();
      try {
        const ready = await request(appWith({ db })).get('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.headers['retry-after']).toMatch(/^\d+$/);
        expect(ready.body).toMatchObject({ status: 'unavailable', database: 'unavailable', temporal: 'ok' });
      } finally {
        await db.destroy();
      }
    });
  });

  describe('the run id cannot be stored right after the start', () => {
    test('the start stands: the run is not terminated, its case stays, and the run ties its case itself once the database takes the write', async () => {
      const { merchantId: _m, ...company } = enterpriseRequest('m-untied');
      await asOwner(
        stack.db,
        `CREATE FUNCTION test_refuse_run_id() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'run id refused by the test'; END $$;
         CREATE TRIGGER test_refuse_run_id BEFORE UPDATE OF run_id ON verification_cases FOR EACH ROW WHEN (NEW.merchant_id = 'm-untied') EXECUTE FUNCTION test_refuse_run_id();`,
      );
      let caseId: string;
      try {
        const res = await api.start(staff.ops, { merchantId: 'm-untied', ...company });
        expect(res.status).toBe(202);
        caseId = res.body.caseId as string;
        const described = await stack.env.client.workflow.getHandle('verification:m-untied').describe();
        expect(described.status.name).toBe('RUNNING');
        expect(await stack.db('verification_cases').where({ id: caseId }).first()).toMatchObject({ status: 'in_review', run_id: null });
      } finally {
        await asOwner(stack.db, 'DROP TRIGGER test_refuse_run_id ON verification_cases; DROP FUNCTION test_refuse_run_id();');
      }
      const runId = (await stack.env.client.workflow.getHandle('verification:m-untied').describe()).runId;
      await eventually(() => stack.db('verification_cases').where({ id: caseId }).first(), (row) => row?.run_id === runId, 30_000);
      expect((await stack.env.client.workflow.getHandle('verification:m-untied').describe()).status.name).toBe('RUNNING');
      expect((await api.view(caseId, staff.ops)).body).toMatchObject({ caseId, status: 'in_review' });
    }, 60_000);
  });
});
