import request from 'supertest';
import pino from 'pino';
import type { Request, Response } from 'express';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { errorMapper } from '../../api/errors';
import { piiVaultFrom } from '../../security/pii';
import { eventually, individualRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectProblem, merchant, staff, type Api } from './http';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('API hygiene: audit log, request ids, errors, headers', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ SECURITY_EVENTS_FLUSH_MS: '100' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  describe('audit log', () => {
    test('a successful start is recorded with who, what, which case and how it ended', async () => {
      const res = await api.start(merchant('m-audit-ok'), individualRequest('m-audit-ok'));
      expect(res.status).toBe(202);
      expect(await api.auditRowOf(res.headers['x-request-id'])).toMatchObject({
        actor_sub: 'u-m-audit-ok',
        actor_role: 'merchant',
        action: 'verification.start',
        target: res.body.caseId,
        status_code: 202,
        outcome: 'succeeded',
        details: { method: 'POST', path: '/v1/verifications' },
      });
    });

    test('a decision is recorded under its case, and so is a refused attempt on that case', async () => {
      const caseId = await api.openCase('m-audit-case');
      const refused = await api.decide(caseId, staff.ops, { decision: 'approve' });
      expect(refused.status).toBe(403);
      const approved = await api.decide(caseId, staff.reviewer, { decision: 'approve' });
      expect(approved.status).toBe(200);
      const conflict = await api.decide(caseId, staff.reviewer, { decision: 'reject', reasons: ['second thoughts'] });
      expect(conflict.status).toBe(409);

      expect(await api.auditRowOf(refused.headers['x-request-id'])).toMatchObject({
        actor_sub: 'olga', actor_role: 'ops', target: caseId, status_code: 403, outcome: 'refused',
      });
      expect(await api.auditRowOf(conflict.headers['x-request-id'])).toMatchObject({
        actor_sub: 'rui', action: 'verification.reject', target: caseId, status_code: 409, outcome: 'refused',
      });
      expect(await api.auditRowOf(approved.headers['x-request-id'])).toMatchObject({
        actor_sub: 'rui', actor_role: 'reviewer', action: 'verification.approve', target: caseId, status_code: 200, outcome: 'succeeded',
      });
      const trail = await stack.db('audit_log').where({ target: caseId }).whereNot({ action: 'pii.read' }).orderBy('id');
      expect(trail.map((r) => [r.action, r.status_code])).toEqual([
        ['verification.start', 202],
        [`POST /v1/verifications/${caseId}/decision`, 403],
        ['verification.approve', 200],
        ['verification.reject', 409],
      ]);
    });

    test.each([
      ['invalid input (400)', () => api.start(staff.ops, { merchantId: 'm-audit-400' }), 400],
      ['a forbidden role (403)', () => api.start(staff.finance, individualRequest('m-audit-403')), 403],
      ['an unknown case (404)', () => api.decide('vc_000000000000000000000000', staff.reviewer, { decision: 'approve' }), 404],
      [
        'invalid JSON (400)',
        async () =>
          request(stack.app)
            .post('/v1/verifications')
            .set('Authorization', `Bearer ${await stack.token(staff.ops)}`)
            .set('Content-Type', 'application/json')
            .send('{"merchantId":'),
        400,
      ],
      ['a body over the limit (413)', () => api.start(staff.ops, { ...individualRequest('m-audit-413'), legalName: 'x'.repeat(200_000) }), 413],
    ])('a refusal is recorded: %s', async (_what, send, status) => {
      const res = await send();
      expect(res.status).toBe(status);
      const row = await api.auditRowOf(res.headers['x-request-id']);
      expect(row).toMatchObject({ status_code: status, outcome: 'refused', action: expect.stringMatching(/^POST \/v1\/verifications|^verification\./) });
    });

    test('an unauthenticated mutating request is a security event of its address, not an audit row', async () => {
      const counted = async () =>
        Number((await stack.db('security_events').where({ kind: 'unauthenticated' }).sum({ n: 'count' }).first())?.n ?? 0);
      const before = await counted();
      const res = await request(stack.app).post('/v1/verifications').send(individualRequest('m-audit-anon'));
      expect(res.status).toBe(401);
      await eventually(counted, (n) => n === before + 1);
      expect(await stack.db('audit_log').where({ request_id: res.headers['x-request-id'] })).toHaveLength(0);
    });

    test('masked reads are not audited; a read in clear is, naming the case and fields, never their values', async () => {
      const caseId = await api.openCase('m-audit-read');
      const masked = await api.view(caseId, staff.ops);
      expect(masked.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      expect(await stack.db('audit_log').where({ request_id: masked.headers['x-request-id'] })).toHaveLength(0);

      for (const reader of [staff.admin, staff.reviewer]) {
        const clear = await api.view(caseId, reader);
        expect(clear.status).toBe(200);
        expect(clear.body.submissions[0].idNumber).toBe(individualRequest('m-audit-read').idNumber);
        // Written before the answer left: no polling needed.
        const rows = await stack.db('audit_log').where({ request_id: clear.headers['x-request-id'] });
        expect(rows).toEqual([
          expect.objectContaining({
            actor_sub: reader.sub,
            actor_role: reader.role,
            action: 'pii.read',
            target: caseId,
            status_code: 200,
            outcome: 'succeeded',
            details: { fields: ['submissions[1].idNumber', 'submissions[1].bankCard.accountNumber'] },
          }),
        ]);
      }
      const everything = JSON.stringify(await stack.db('audit_log'));
      expect(everything).not.toContain(individualRequest('x').idNumber);
      expect(everything).not.toContain(individualRequest('x').bankCard!.accountNumber);
    });

    test('the audit log refuses UPDATE and DELETE', async () => {
      const res = await api.start(staff.finance, {});
      const row = await api.auditRowOf(res.headers['x-request-id']);
      // The app's role has no UPDATE or DELETE on it (PostgreSQL); the trigger refuses them for anyone.
      const refused = /audit_log is append-only|permission denied/;
      await expect(stack.db('audit_log').where({ request_id: row.request_id }).update({ outcome: 'succeeded' })).rejects.toThrow(refused);
      await expect(stack.db('audit_log').where({ request_id: row.request_id }).delete()).rejects.toThrow(refused);
      await expect(stack.db('audit_log').delete()).rejects.toThrow(refused);
      expect(await api.auditRowOf(row.request_id)).toMatchObject({ outcome: 'refused', status_code: 403 });
    });
  });

  describe('request ids', () => {
    test.each([
      ['GET /health/live', () => request(stack.app).get('/health/live')],
      ['GET /openapi.json', () => request(stack.app).get('/openapi.json')],
      ['GET /docs/', () => request(stack.app).get('/docs/')],
      ['an unknown route', () => request(stack.app).get('/nowhere')],
      ['a 401', () => request(stack.app).get('/v1/verifications/vc_000000000000000000000000')],
      ['a 202', () => api.start(staff.ops, individualRequest('m-reqid'))],
    ])('every response carries X-Request-Id: %s', async (_what, send) => {
      const res = await send();
      expect(res.headers['x-request-id']).toMatch(UUID);
      if (res.headers['content-type']?.startsWith('application/json') && res.status >= 400) {
        expect(res.body.instance).toBe(res.headers['x-request-id']);
      }
    });

    test('a sane caller-supplied X-Request-Id is echoed in the header, the error body and the audit log', async () => {
      const id = 'caller-trace.42_A';
      const res = await request(stack.app)
        .post('/v1/verifications')
        .set('X-Request-Id', id)
        .set('Authorization', `Bearer ${await stack.token(staff.finance)}`)
        .send({});
      expect(res.status).toBe(403);
      expect(res.headers['x-request-id']).toBe(id);
      expect(res.body.instance).toBe(id);
      expect((await api.auditRowOf(id)).status_code).toBe(403);
    });

    test.each([
      ['spaces and markup', 'id <script>'],
      ['more than 64 characters', 'a'.repeat(65)],
      ['an injection attempt', "x'; drop table audit_log; --"],
    ])('an insane X-Request-Id (%s) is replaced by a fresh one', async (_what, given) => {
      const res = await request(stack.app).get('/nowhere').set('X-Request-Id', given);
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.body.instance).toBe(res.headers['x-request-id']);
      expect(res.text).not.toContain(given);
    });
  });

  describe('server errors', () => {
    test('a 500 answers with the request id and no stack trace or internal message', async () => {
      // Realistic: a submission sealed under another key (a botched key rotation) cannot be opened.
      const caseId = await api.openCase('m-broken-cipher');
      await stack.db('verification_submissions').where({ case_id: caseId }).update({ id_number_cipher: 'v1.AAAA.BBBB.CCCC' });
      const res = await api.view(caseId, staff.reviewer);
      expect(res.status).toBe(500);
      expectProblem(res, 500, 'internal', { detail: 'something went wrong; quote the request id' });
      expect(res.text).not.toMatch(/\bat \S+ \(|\.ts:\d+|Error:/);
      // Masked readers never decrypt, so they still see the case.
      expect((await api.view(caseId, staff.ops)).status).toBe(200);
    });

    test('the error mapper hides the message and stack of an unexpected error', () => {
      const logged: unknown[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
      const sent: { status?: number; contentType?: string; body?: unknown } = {};
      const res = {
        status(code: number) {
          sent.status = code;
          return this;
        },
        type(contentType: string) {
          sent.contentType = contentType;
          return this;
        },
        setHeader: () => undefined,
        json(body: unknown) {
          sent.body = JSON.parse(JSON.stringify(body));
          return this;
        },
      } as unknown as Response;
      const err = new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
      errorMapper(logger)(err, { id: 'req-1' } as unknown as Request, res, () => undefined);
      expect(sent).toEqual({
        status: 500,
        contentType: 'application/problem+json',
        body: { type: '/problems/internal', title: 'Internal error', status: 500, code: 'internal', detail: 'something went wrong; quote the request id', instance: 'req-1' },
      });
      expect(JSON.stringify(sent.body)).not.toContain('hunter2');
      // The details go to the log, with the request id to find them.
      expect(logged).toEqual([expect.objectContaining({ requestId: 'req-1', err: expect.objectContaining({ stack: expect.stringContaining('hunter2') }) })]);
    });

    test('when Temporal is unreachable a start is a 503 (not a 500), nothing is recorded, and /health/ready says so', async () => {
      // No retry interceptor: fail at once instead of retrying for seconds.
      const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
      const app = createApp({
        config: stack.config,
        db: stack.db,
        temporal: new Client({ connection }),
        logger: pino({ level: 'silent' }),
        vault: piiVaultFrom(stack.config),
      });
      try {
        const res = await request(app).post('/v1/verifications').set('Authorization', `Bearer ${await stack.token(staff.ops)}`).send(individualRequest('m-no-temporal'));
        expectProblem(res, 503, 'unavailable', { detail: expect.stringContaining('retry'), dependency: 'temporal' });
        await api.expectNothingStartedFor('m-no-temporal');
        expect(await api.auditRowOf(res.headers['x-request-id'])).toMatchObject({ status_code: 503, outcome: 'failed' });

        const ready = await request(app).get('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body).toEqual({ status: 'unavailable', database: 'ok', temporal: 'unavailable', calendar: expect.objectContaining({ warning: expect.any(Boolean) }) });
      } finally {
        await connection.close();
      }
    });
  });

  describe('headers', () => {
    test.each([
      ['a JSON answer', () => request(stack.app).get('/health/live')],
      ['an error', () => request(stack.app).post('/v1/verifications').send({})],
      ['the docs page', () => request(stack.app).get('/docs/')],
    ])('helmet security headers are set and x-powered-by is not: %s', async (_what, send) => {
      const res = await send();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("object-src 'none'");
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });
  });
});
