import { WorkflowNotFoundError } from '@temporalio/client';
import { enterpriseRequest, individualRequest } from '../support/fixtures';
import { openShop } from '../support/shops';
import { asOwner } from '../support/owner-sql';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api } from './http';

const SQL_OR_DATABASE = /insert|select|update|delete|relation|constraint|violates|verification_cases|violation_events|SQLSTATE|syntax/i;

/** A database error never reaches an answer: no SQL, no table, no value; the request id to find it in the log. */
describe('database errors behind the API', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a query the database refuses is a plain 500 with the request id', async () => {
    await asOwner(stack.db, 'ALTER TABLE violation_cases RENAME TO violation_cases_away');
    try {
      const broken = await api.get(`/v1/violations/vio_${'0'.repeat(24)}`, staff.ops);
      expect(broken.status).toBe(500);
      expect(broken.body).toMatchObject({ code: 'internal', detail: 'something went wrong; quote the request id', instance: broken.headers['x-request-id'] });
      expect(broken.text).not.toMatch(SQL_OR_DATABASE);
    } finally {
      await asOwner(stack.db, 'ALTER TABLE violation_cases_away RENAME TO violation_cases');
    }
  });

  test('a review whose rows cannot be recorded is a 503 that says so without the database message, and its process is stopped', async () => {
    await asOwner(stack.db, `ALTER TABLE verification_cases ADD CONSTRAINT test_refuses_this_name CHECK (legal_name <> '拒绝有限公司')`);
    try {
      const res = await api.start(staff.ops, { ...individualRequest('m-unrecordable'), legalName: '拒绝有限公司' });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'unavailable', detail: 'the case could not be recorded; retry shortly', instance: res.headers['x-request-id'] });
      expect(res.text).not.toMatch(SQL_OR_DATABASE);
      expect(res.text).not.toContain('拒绝有限公司');
      const described = await stack.env.client.workflow
        .getHandle('verification:m-unrecordable')
        .describe()
        .catch((err: unknown) => (err instanceof WorkflowNotFoundError ? undefined : Promise.reject(err)));
      expect(described?.status.name ?? 'TERMINATED').toBe('TERMINATED');
    } finally {
      await asOwner(stack.db, 'ALTER TABLE verification_cases DROP CONSTRAINT test_refuses_this_name');
    }
  });

  test('a change of entity whose rows cannot be recorded is a 503 without the database message', async () => {
    const { shopId } = await openShop(stack, 'm-unrecordable-change');
    expect(shopId).toBe('shop-m-unrecordable-change');
    const { merchantId: _m, ...company } = enterpriseRequest('m-unrecordable-change');
    await asOwner(stack.db, `ALTER TABLE verification_cases ADD CONSTRAINT test_refuses_this_change CHECK (legal_name <> '${company.legalName}')`);
    try {
      const res = await api.post('/v1/merchants/m-unrecordable-change/entity-change', merchant('m-unrecordable-change'), company);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'unavailable', detail: 'the case could not be recorded; retry shortly', instance: res.headers['x-request-id'] });
      expect(res.text).not.toMatch(SQL_OR_DATABASE);
    } finally {
      await asOwner(stack.db, 'ALTER TABLE verification_cases DROP CONSTRAINT test_refuses_this_change');
    }
  });
});
