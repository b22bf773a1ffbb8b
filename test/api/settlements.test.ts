import request from 'supertest';
import { seedOrders } from '../../scripts/seed-orders';
import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { merchant, staff } from './http';

const PERIOD = '2026-10';

describe('settlement routes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await seedOrders(stack.db, { orders: 2_000, merchants: 40, period: PERIOD, seed: 3 });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const bearer = async (claims: Parameters<Stack['token']>[0]) => `Bearer ${await stack.token(claims)}`;

  test('finance runs a period; progress shows it done; a merchant reads only its own statements', async () => {
    const started = await request(stack.app).post('/v1/settlements').set('Authorization', await bearer(staff.finance)).send({ period: PERIOD });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ period: PERIOD, workflowId: `settlement:${PERIOD}` });

    const progress = await eventually(
      async () => (await request(stack.app).get(`/v1/settlements/${PERIOD}`).set('Authorization', await bearer(staff.finance))).body,
      (b) => b.status === 'completed',
      30_000,
    );
    const count = await stack.db('statements').where({ period: PERIOD }).count<{ count: string }[]>('* as count');
    expect(progress.merchantsDone).toBe(Number(count[0]!.count));
    expect(progress.totals.gmvFen).toBeGreaterThan(0);

    const [first] = await stack.db('statements').where({ period: PERIOD }).orderBy('merchant_id').limit(1);
    const own = await request(stack.app).get(`/v1/merchants/${first.merchant_id}/statements`).set('Authorization', await bearer(merchant(first.merchant_id)));
    expect(own.status).toBe(200);
    expect(own.body.statements).toEqual([expect.objectContaining({ period: PERIOD, gmvFen: Number(first.gmv_fen), netFen: Number(first.net_fen) })]);
    const other = await request(stack.app).get(`/v1/merchants/${first.merchant_id}/statements`).set('Authorization', await bearer(merchant('m-someone-else')));
    expect(other.status).toBe(403);
  });

  test.each([
    ['ops may not run a settlement', staff.ops, { period: PERIOD }, 403],
    ['a merchant may not run a settlement', merchant('m-1'), { period: PERIOD }, 403],
    ['the period must be a month', staff.finance, { period: '2026-13' }, 400],
    ['no other fields', staff.finance, { period: PERIOD, force: true }, 400],
  ])('%s', async (_name, claims, body, status) => {
    const res = await request(stack.app).post('/v1/settlements').set('Authorization', await bearer(claims)).send(body);
    expect(res.status).toBe(status);
  });

  test('an unknown period is a 404', async () => {
    const res = await request(stack.app).get('/v1/settlements/2019-01').set('Authorization', await bearer(staff.finance));
    expect(res.status).toBe(404);
  });
});
