import request from 'supertest';
import { ApplicationFailure, Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ErrorType } from '../../domain/errors';
import { firstDayAfter, periodOf } from '../../domain/settlement';
import { SETTLEMENT_WORKFLOW_TYPE } from '../../workflows/settlement.defs';
import { seedOrders } from '../../scripts/seed-orders';
import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { expectAnsweredAsMissing, merchant, staff } from './http';

const PERIOD = '2026-10';

/** The innermost ApplicationFailure of a failed workflow: the activity's refusal. */
function rootCauseOf(err: WorkflowFailedError): ApplicationFailure {
  let cause: Error | undefined = err;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: Error }).cause;
  if (!cause) throw new Error(`no ApplicationFailure in ${err.message}`);
  return cause as ApplicationFailure;
}

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
    // Answered like an unknown merchant: a merchant cannot tell which merchant ids exist.
    const unknown = await request(stack.app).get('/v1/merchants/m-nobody/statements').set('Authorization', await bearer(merchant('m-someone-else')));
    expect(other.body).toMatchObject({ code: 'not_found', detail: `merchant ${first.merchant_id} does not exist` });
    expectAnsweredAsMissing(other, unknown, { existing: first.merchant_id, unknown: 'm-nobody' });
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
    const res = await request(stack.app).get('/v1/settlements/2020-01').set('Authorization', await bearer(staff.finance));
    expect(res.status).toBe(404);
  });

  describe('a period is a real month from 2020-01 to the current one, in the body and in the path', () => {
    const nextYear = `${new Date().getUTCFullYear() + 1}-01`;
    test.each([
      ['year 0', '0000-01'],
      ['before the first period', '2019-12'],
    ])('%s (%s): 400 naming the field, and no run starts', async (_name, period) => {
      const run = await request(stack.app).post('/v1/settlements').set('Authorization', await bearer(staff.finance)).send({ period });
      expect(run.status).toBe(400);
      expect(run.body).toMatchObject({ code: 'invalid_request', issues: [{ path: 'period', message: expect.any(String) }] });
      const read = await request(stack.app).get(`/v1/settlements/${period}`).set('Authorization', await bearer(staff.finance));
      expect(read.status).toBe(400);
      expect(read.body).toMatchObject({ code: 'invalid_request', issues: [{ path: 'period', message: expect.any(String) }] });
      expect(await stack.db('settlement_runs').where({ period })).toHaveLength(0);
    });

    test.each([['next year', nextYear], ['the year 9999', '9999-12']])('%s (%s) cannot be read: 400 naming the field', async (_name, period) => {
      const read = await request(stack.app).get(`/v1/settlements/${period}`).set('Authorization', await bearer(staff.finance));
      expect(read.status).toBe(400);
      expect(read.body).toMatchObject({ code: 'invalid_request', issues: [{ path: 'period', message: expect.any(String) }] });
    });
  });

  describe('a run settles only a period that has ended', () => {
    const current = periodOf(new Date());
    const nextYear = `${new Date().getUTCFullYear() + 1}-01`;
    test.each([
      ['the current month', current, firstDayAfter(current)],
      ['next year', nextYear, firstDayAfter(nextYear)],
      ['the year 9999', '9999-12', '10000-01-01'],
    ])('%s (%s): 409 period_not_ended naming %s, and no run starts', async (_name, period, earliest) => {
      const run = await request(stack.app).post('/v1/settlements').set('Authorization', await bearer(staff.finance)).send({ period });
      expect(run.status).toBe(409);
      expect(run.body).toMatchObject({ code: 'period_not_ended', earliestRunDate: earliest, timeZone: 'Asia/Shanghai' });
      expect(run.body.detail).toContain(earliest);
      expect(await stack.db('settlement_runs').where({ period })).toHaveLength(0);
      const handle = new Client({ connection: stack.env.connection }).workflow.getHandle(`settlement:${period}`);
      await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });
  });

  test('a period that reaches the workflow anyway fails it at once, never retrying for ever', async () => {
    const client = new Client({ connection: stack.env.connection });
    const handle = await client.workflow.start(SETTLEMENT_WORKFLOW_TYPE, {
      workflowId: 'settlement:0000-01:started-directly',
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ period: '0000-01' }],
    });
    const outcome = await Promise.race([
      handle.result().then(
        () => 'completed',
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still retrying after 20 s'), 20_000)),
    ]);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const failure = rootCauseOf(outcome as WorkflowFailedError);
    expect(failure).toMatchObject({ type: ErrorType.InvalidSettlementPeriod, nonRetryable: true });
    expect(failure.message).toMatch(/2020-01 or later/);
    expect(await stack.db('settlement_runs').where({ period: '0000-01' })).toHaveLength(0);
  }, 40_000);

  test('a run of the current month started by hand fails at once, naming the earliest day', async () => {
    const period = periodOf(new Date());
    const client = new Client({ connection: stack.env.connection });
    const handle = await client.workflow.start(SETTLEMENT_WORKFLOW_TYPE, {
      workflowId: `settlement:${period}:started-directly`,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ period }],
    });
    const outcome = await Promise.race([
      handle.result().then(
        () => 'completed',
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still retrying after 20 s'), 20_000)),
    ]);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const failure = rootCauseOf(outcome as WorkflowFailedError);
    expect(failure).toMatchObject({ type: ErrorType.InvalidSettlementPeriod, nonRetryable: true });
    expect(failure.message).toContain(`earliest a run may settle it is ${firstDayAfter(period)}`);
    expect(await stack.db('statements').where({ period, kind: 'monthly' })).toHaveLength(0);
  }, 40_000);
});
