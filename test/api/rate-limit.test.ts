import { individualRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectProblem, merchant, staff, type Api } from './http';

describe('rate limit on mutating requests (API_RATE_LIMIT_PER_MINUTE=3)', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '3' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('the 4th mutating request of one token is a 429 JSON that starts nothing; reads and other callers go on', async () => {
    expect(stack.config.API_RATE_LIMIT_PER_MINUTE).toBe(3);
    const owner = merchant('m-busy');
    const first = await api.start(owner, individualRequest('m-busy'));
    expect(first.status).toBe(202);
    expect((await api.start(owner, individualRequest('m-busy'))).status).toBe(409);
    expect((await api.start(owner, { merchantId: 'm-busy' })).status).toBe(400);

    const limited = await api.resubmit(first.body.caseId, owner, { documents: [] });
    expectProblem(limited, 429, 'rate_limited');
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited.headers['ratelimit-policy']).toContain('q=3');
    const again = await api.start(owner, individualRequest('m-busy'));
    expect(again.status).toBe(429);
    expect(await stack.db('verification_cases').where({ merchant_id: 'm-busy' })).toHaveLength(1);
    const row = await api.auditRowOf(limited.headers['x-request-id']);
    expect(row).toMatchObject({ actor_sub: 'u-m-busy', status_code: 429, outcome: 'refused', target: first.body.caseId });

    // Reads are not limited.
    for (let i = 0; i < 6; i += 1) expect((await api.view(first.body.caseId, owner)).status).toBe(200);

    // The limit is per token subject, not global.
    const other = await api.start(staff.ops, individualRequest('m-quiet'));
    expect(other.status).toBe(202);
  });
});
