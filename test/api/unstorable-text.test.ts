import request from 'supertest';
import type { TokenClaims } from '../../security/tokens';
import { depositState, openShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';
import { merchant, staff } from './http';

interface Issue {
  path: string;
  message: string;
}

const NUL = '\u0000';
const UNKNOWN_VIOLATION = `vio_${'0'.repeat(24)}`;
const UNKNOWN_CASE = `vc_${'0'.repeat(24)}`;

/**
 * Text PostgreSQL refuses (NUL) or that cannot be encoded (a lone surrogate), and control
 * characters, are a 400 at the edge naming the field, on every route family, before any
 * process or row is touched.
 */
describe('text that cannot be stored is refused at the edge', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const send = async (method: 'get' | 'post', path: string, claims: TokenClaims, body?: unknown) => {
    const req = request(stack.app)[method](path).set('Authorization', `Bearer ${await stack.token(claims)}`);
    return body === undefined ? req : req.send(body as object);
  };
  const expectRefused = (res: request.Response, path: string, what: RegExp) => {
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'invalid_request' });
    expect(res.body.instance).toBe(res.headers['x-request-id']);
    const issue = (res.body.issues as Issue[]).find((i) => i.path === path);
    expect(issue?.message).toMatch(what);
    expect(issue?.message).toMatch(/cannot be stored/);
  };

  test.each([
    ['a start: legalName with NUL', '/v1/verifications', staff.ops, { legalName: `张${NUL}三` }, 'legalName', /NUL/],
    ['a start: a bound store name with a lone surrogate', '/v1/verifications', staff.ops, { bankCard: { bankName: 'ICBC\uD800', accountNumber: '6222' } }, 'bankCard.bankName', /lone surrogate/],
    ['a decision: a reason with BEL', `/v1/verifications/${UNKNOWN_CASE}/decision`, staff.reviewer, { decision: 'reject', reasons: ['ok', 'bad\u0007'] }, 'reasons.1', /control character/],
  ])('verifications — %s', async (_name, path, claims, patch, field, what) => {
    const body = path === '/v1/verifications' ? { merchantId: 'm-text', entityType: 'individual', legalName: '张三', ...patch } : patch;
    expectRefused(await send('post', path, claims, body), field, what);
  });

  test('violations — an evidence summary, an appeal statement, a decision reason, a path parameter', async () => {
    const open = { merchantId: 'm-x', shopId: 'shop-m-x', type: 'other', level: 'general', evidence: { summary: `silk${NUL}`, productIds: [] } };
    expectRefused(await send('post', '/v1/violations', staff.ops, open), 'evidence.summary', /NUL/);
    expectRefused(await send('post', `/v1/violations/${UNKNOWN_VIOLATION}/appeal`, staff.admin, { statement: `it was${NUL}fine` }), 'statement', /NUL/);
    expectRefused(
      await send('post', `/v1/violations/${UNKNOWN_VIOLATION}/appeal-decision`, staff.reviewer, { decision: 'rejected', reasons: ['\u0085'] }),
      'reasons.0',
      /control character/,
    );
    // A path parameter is refused too; its schema already says why (it is no merchant id).
    const path = await send('get', '/v1/merchants/m-1%00/violations', staff.ops);
    expect({ status: path.status, paths: path.body.issues.map((i: Issue) => i.path) }).toEqual({ status: 400, paths: ['merchantId'] });
    expect(Number((await stack.db('violation_cases').count({ n: '*' }).first())!.n)).toBe(0);
  });

  test('settlements — a body field, a query parameter, and a body on a route that reads none', async () => {
    expectRefused(await send('post', '/v1/settlements', staff.finance, { period: `2026-10${NUL}` }), 'period', /NUL/);
    expectRefused(await send('get', '/v1/settlements/2026-10?note=%00', staff.finance), 'query.note', /NUL/);
    expectRefused(await send('get', '/v1/merchants/m-1/statements', staff.finance, { note: `x${NUL}` }), 'note', /NUL/);
  });

  test('shops — a deduction whose reason holds NUL is refused and the deposit process stays free', async () => {
    const { shopId } = await openShop(stack, 'm-text-shop');
    const refused = await send('post', `/v1/shops/${shopId}/deposit/deductions`, staff.finance, {
      amountFen: 100,
      reason: `fine${NUL}`,
      reference: 'fine-nul-1',
    });
    expectRefused(refused, 'reason', /NUL/);
    // The same process takes the next movement at once: nothing is stuck behind the refused one.
    const topUp = await send('post', `/v1/shops/${shopId}/deposit/top-ups`, merchant('m-text-shop'), { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) });
    expect(topUp.status).toBe(200);
    expect((await depositState(stack, shopId, (s) => s.balanceFen === 50_000)).balanceFen).toBe(50_000);
  });
});
