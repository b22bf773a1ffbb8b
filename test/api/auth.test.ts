import request from 'supertest';
import { spawnSync } from 'node:child_process';
import { decodeJwt, SignJWT } from 'jose';
import { individualRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectAnsweredAsMissing, merchant, staff, type Api } from './http';

describe('API authentication and roles', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  describe('POST /v1/verifications', () => {
    test.each([
      ['ops', staff.ops, 'm-start-ops'],
      ['admin', staff.admin, 'm-start-admin'],
      ['the merchant itself', merchant('m-start-own'), 'm-start-own'],
    ])('%s may start a review: 202 and a running workflow', async (_who, claims, merchantId) => {
      const res = await api.start(claims, individualRequest(merchantId));
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ caseId: expect.stringMatching(/^vc_/), workflowId: `verification:${merchantId}`, status: 'in_review' });
      expect(res.headers.location).toBe(`/v1/verifications/${res.body.caseId}`);
      expect(await api.runningWorkflowsOf(merchantId)).toBe(1);
    });

    test.each([
      ['reviewer', staff.reviewer],
      ['finance', staff.finance],
    ])('%s may not start a review: 403 and nothing started', async (_who, claims) => {
      const merchantId = `m-start-${claims.role}`;
      const res = await api.start(claims, individualRequest(merchantId));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', detail: expect.stringContaining(claims.role) });
      await api.expectNothingStartedFor(merchantId);
    });

    test('a merchant may not start a review for another merchant', async () => {
      const res = await api.start(merchant('m-intruder'), individualRequest('m-victim'));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', detail: 'a merchant may only act on its own cases and shops' });
      await api.expectNothingStartedFor('m-victim');
      await api.expectNothingStartedFor('m-intruder');
    });
  });

  describe('GET /v1/verifications/:id', () => {
    let caseId: string;
    beforeAll(async () => {
      caseId = await api.openCase('m-read');
    });

    test.each([
      ['ops', staff.ops],
      ['reviewer', staff.reviewer],
      ['admin', staff.admin],
      ['the merchant itself', merchant('m-read')],
    ])('%s may read the case', async (_who, claims) => {
      const res = await api.view(caseId, claims);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ caseId, merchantId: 'm-read', status: 'in_review' });
    });

    test('finance may not read verification cases', async () => {
      const res = await api.view(caseId, staff.finance);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', detail: expect.any(String), instance: expect.any(String) });
    });

    test('another merchant may not read the case, and learns nothing of it: the answer is that of a missing case', async () => {
      const res = await api.view(caseId, merchant('m-someone-else'));
      const unknown = 'vc_000000000000000000000000';
      const missing = await api.view(unknown, merchant('m-someone-else'));
      expect(res.body).toMatchObject({ code: 'not_found', detail: `verification case ${caseId} does not exist`, instance: expect.any(String) });
      expectAnsweredAsMissing(res, missing, { existing: caseId, unknown });
    });
  });

  describe('POST /v1/verifications/:id/decision', () => {
    test.each([
      ['ops', 'm-decide-ops', staff.ops],
      ['finance', 'm-decide-finance', staff.finance],
      ['the merchant itself', 'm-decide-own', merchant('m-decide-own')],
    ])('%s may not decide: 403 and the case stays in review', async (_who, merchantId, claims) => {
      const caseId = await api.openCase(merchantId);
      const res = await api.decide(caseId, claims, { decision: 'approve' });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
      expect((await api.view(caseId, staff.admin)).body.status).toBe('in_review');
      expect(await stack.db('shops').where({ merchant_id: merchantId })).toHaveLength(0);
    });

    test.each([
      ['reviewer', staff.reviewer],
      ['admin', staff.admin],
    ])('%s may decide', async (_who, claims) => {
      const merchantId = `m-decide-by-${claims.role}`;
      const caseId = await api.openCase(merchantId);
      const res = await api.decide(caseId, claims, { decision: 'approve' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ caseId, status: 'approved' });
      expect((await api.view(caseId, staff.ops)).body.history.at(-1)).toMatchObject({ type: 'approved', actor: `${claims.role}:${claims.sub}` });
    });
  });

  describe('POST /v1/verifications/:id/resubmission', () => {
    const merchantId = 'm-resubmit-roles';
    const answer = () => {
      const { idNumber, bankCard, documents } = individualRequest(merchantId);
      return { idNumber, bankCard, documents };
    };
    let caseId: string;
    beforeAll(async () => {
      caseId = await api.caseAwaitingResubmission(merchantId);
    });
    const askAgain = async () => {
      const res = await api.decide(caseId, staff.reviewer, { decision: 'request_info', reasons: ['still unreadable'] });
      expect(res.body.status).toBe('awaiting_resubmission');
    };

    test.each([
      ['reviewer', staff.reviewer, 403],
      ['finance', staff.finance, 403],
      ['another merchant (as if the case did not exist)', merchant('m-not-the-owner'), 404],
    ])('%s may not resubmit: %s… and the case keeps waiting', async (_who, claims, status) => {
      const res = await api.resubmit(caseId, claims, answer());
      expect(res.status).toBe(status);
      const view = await api.view(caseId, staff.admin);
      expect(view.body.status).toBe('awaiting_resubmission');
      expect(view.body.submissions).toHaveLength(1);
    });

    test('the merchant itself, ops and admin may resubmit', async () => {
      for (const claims of [merchant(merchantId), staff.ops, staff.admin]) {
        const res = await api.resubmit(caseId, claims, answer());
        expect(res.status).toBe(200);
        expect(res.body.status).toBe('in_review');
        if (claims !== staff.admin) await askAgain();
      }
      const view = await api.view(caseId, staff.admin);
      expect(view.body.submissions.map((s: { seq: number }) => s.seq)).toEqual([1, 2, 3, 4]);
      expect(view.body.history.filter((h: { type: string }) => h.type === 'resubmitted').map((h: { actor: string }) => h.actor)).toEqual([
        `merchant:u-${merchantId}`,
        'ops:olga',
        'admin:ada',
      ]);
    });
  });

  describe('401 for every token the API must not trust', () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const sign = (
      claims: Record<string, unknown>,
      opts: { secret?: string; alg?: string; issuer?: string; audience?: string; expires?: string | number | null; issuedAt?: number | null; subject?: string } = {},
    ) => {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
        .setSubject(opts.subject ?? 'mallory')
        .setIssuer(opts.issuer ?? stack.config.JWT_ISSUER)
        .setAudience(opts.audience ?? stack.config.JWT_AUDIENCE);
      if (opts.issuedAt !== null) jwt.setIssuedAt(opts.issuedAt);
      if (opts.expires !== null) jwt.setExpirationTime(opts.expires ?? '1h');
      return jwt.sign(new TextEncoder().encode(opts.secret ?? stack.config.JWT_SECRET));
    };
    const admin = { role: 'admin' };
    const merchantClaims = { role: 'merchant', merchantId: 'm-mallory' };
    const nowSeconds = () => Math.floor(Date.now() / 1000);

    const cases: Array<[string, () => Promise<string | undefined>, RegExp]> = [
      ['no Authorization header', async () => undefined, /Bearer/],
      ['a Basic header', async () => 'Basic YWRtaW46YWRtaW4=', /Bearer/],
      ['"Bearer" with no token', async () => 'Bearer', /Bearer/],
      ['a token that is not a JWT', async () => 'Bearer not-a-jwt', /invalid/],
      ['a bad signature', async () => `Bearer ${await sign(admin, { secret: 'x'.repeat(48) })}`, /invalid/],
      ['an expired token', async () => `Bearer ${await sign(admin, { expires: nowSeconds() - 60 })}`, /expired/],
      ['a token without exp', async () => `Bearer ${await sign(admin, { expires: null })}`, /exp/],
      ['the wrong issuer', async () => `Bearer ${await sign(admin, { issuer: 'someone-else' })}`, /iss/],
      ['the wrong audience', async () => `Bearer ${await sign(admin, { audience: 'another-api' })}`, /aud/],
      ['alg "none"', async () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', role: 'admin', iss: stack.config.JWT_ISSUER, aud: stack.config.JWT_AUDIENCE, exp: nowSeconds() + 3600 })}.`, /algorithm/],
      ['alg HS512 with the right secret', async () => `Bearer ${await sign(admin, { alg: 'HS512' })}`, /algorithm/],
      ['a merchant token without merchantId', async () => `Bearer ${await sign({ role: 'merchant' })}`, /merchantId/],
      ['an unknown role', async () => `Bearer ${await sign({ role: 'superuser' })}`, /claims are invalid/],
      ['a token without iat', async () => `Bearer ${await sign(admin, { issuedAt: null })}`, /iat/],
      // Its subject is written in every audit row: one the database cannot store would turn each request into a 503.
      ['a subject with a NUL byte', async () => `Bearer ${await sign(admin, { subject: 'mal\u0000lory' })}`, /claims are invalid: sub /],
      ['a subject with a lone surrogate', async () => `Bearer ${await sign(admin, { subject: 'mal\uD800lory' })}`, /claims are invalid: sub /],
      ['a merchantId with a control character', async () => `Bearer ${await sign({ role: 'merchant', merchantId: 'm-\u0007' })}`, /claims are invalid: merchantId /],
      ['an admin token valid for 100 years', async () => `Bearer ${await sign(admin, { expires: '100y' })}`, /lifetime .* admin/],
      ['an admin token one second over its 1 h', async () => `Bearer ${await sign(admin, { issuedAt: nowSeconds(), expires: nowSeconds() + 3_601 })}`, /lifetime/],
      ['a merchant token one second over its 24 h', async () => `Bearer ${await sign(merchantClaims, { issuedAt: nowSeconds(), expires: nowSeconds() + 86_401 })}`, /lifetime .* merchant/],
      ['a staff token one second over its 12 h', async () => `Bearer ${await sign({ role: 'ops' }, { issuedAt: nowSeconds(), expires: nowSeconds() + 43_201 })}`, /lifetime .* ops/],
      ['a token issued in the future beyond the clock skew', async () => `Bearer ${await sign(admin, { issuedAt: nowSeconds() + 120, expires: nowSeconds() + 1_800 })}`, /iat/],
      [
        'a back-dated token valid for another year',
        async () => `Bearer ${await sign(admin, { issuedAt: nowSeconds() - 86_400 * 365, expires: nowSeconds() + 86_400 * 365 })}`,
        /lifetime/,
      ],
    ];

    test.each([
      ['an admin token of exactly 1 h', () => sign(admin, { issuedAt: nowSeconds(), expires: nowSeconds() + 3_600 })],
      ['a merchant token of exactly 24 h', () => sign(merchantClaims, { issuedAt: nowSeconds(), expires: nowSeconds() + 86_400 })],
      ['a staff token of exactly 12 h', () => sign({ role: 'ops' }, { issuedAt: nowSeconds(), expires: nowSeconds() + 43_200 })],
      ['a token issued 30 s ahead (within the clock skew)', () => sign(admin, { issuedAt: nowSeconds() + 30, expires: nowSeconds() + 1_800 })],
    ])('%s is accepted', async (_what, token) => {
      const res = await request(stack.app).get('/v1/verifications/vc_000000000000000000000000').set('Authorization', `Bearer ${await token()}`);
      expect(res.status).toBe(404);
    });

    test.each(cases)('%s: 401 JSON on a mutating route, and nothing started', async (_what, header, message) => {
      const merchantId = 'm-unauthenticated';
      const req = request(stack.app).post('/v1/verifications');
      const auth = await header();
      const res = await (auth === undefined ? req : req.set('Authorization', auth)).send(individualRequest(merchantId));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'unauthorized', detail: expect.stringMatching(message), instance: res.headers['x-request-id'] });
      await api.expectNothingStartedFor(merchantId);
    });

    test.each(cases)('%s: 401 JSON on a read route', async (_what, header) => {
      const req = request(stack.app).get('/v1/verifications/vc_000000000000000000000000');
      const auth = await header();
      const res = await (auth === undefined ? req : req.set('Authorization', auth));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'unauthorized', instance: res.headers['x-request-id'] });
    });
  });

  describe('npm run token mints what the API accepts, never longer than the role may live', () => {
    const mint = (...args: string[]) =>
      spawnSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/mint-token.ts', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, JWT_SECRET: stack.config.JWT_SECRET, JWT_ISSUER: stack.config.JWT_ISSUER, JWT_AUDIENCE: stack.config.JWT_AUDIENCE },
      });

    test.each([
      ['admin', ['--role', 'admin'], 3_600],
      ['a merchant', ['--role', 'merchant', '--merchant', 'm-minted'], 86_400],
      ['ops for 90 minutes', ['--role', 'ops', '--ttl', '90m'], 5_400],
    ])('%s', async (_who, args, lifetime) => {
      const minted = mint(...args);
      expect(minted.status).toBe(0);
      const token = minted.stdout.trim();
      const claims = decodeJwt(token);
      expect(claims.exp! - claims.iat!).toBe(lifetime);
      const res = await request(stack.app).get('/v1/verifications/vc_000000000000000000000000').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(404);
    }, 30_000);

    test('a --ttl over the role\'s cap is refused', () => {
      const minted = mint('--role', 'admin', '--ttl', '2h');
      expect(minted.status).toBe(1);
      expect(minted.stderr).toContain('must be from 1 s to 3600 s');
    }, 30_000);
  });

  test('health endpoints answer without a token', async () => {
    const live = await request(stack.app).get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await request(stack.app).get('/health/ready');
    expect(ready.status).toBe(200);
    // Readiness also reports how far the official working-day data reaches (its own suite: calendar-readiness).
    expect(ready.body).toEqual({ status: 'ok', database: 'ok', temporal: 'ok', calendar: expect.objectContaining({ officialThrough: expect.any(String) }) });
  });
});
