import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { createShopService } from '../../api/shops/service';
import { createVerificationService } from '../../api/verifications/service';
import { createViolationService } from '../../api/violations/service';
import { createPiiVault } from '../../security/pii';
import type { Principal } from '../../api/auth';
import { enterpriseRequest, individualRequest } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/db';

const vault = createPiiVault(randomBytes(32).toString('base64'), randomBytes(32).toString('base64'));
const ops: Principal = { sub: 'o-1', role: 'ops' };

/**
 * Every kind of process that writes rows before it starts, through the services the routes
 * call, with a Temporal whose start fails: nothing of the request stays behind. A Temporal
 * that starts notes which rows were there at that moment: the record comes first.
 */
describe('a process start that fails leaves nothing half-written', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** A Temporal whose start answers with `answer`, noting the verification and violation rows there when it was asked. */
  function temporal(answer: () => Promise<unknown>) {
    const seen: Array<{ options: WorkflowStartOptions; cases: unknown[] }> = [];
    const client = {
      workflow: {
        start: async (_type: string, options: WorkflowStartOptions) => {
          const cases = [...(await t.db('verification_cases').where({ workflow_id: options.workflowId })), ...(await t.db('violation_cases').where({ workflow_id: options.workflowId }))];
          seen.push({ options, cases });
          return answer();
        },
        getHandle: () => ({
          describe: () => Promise.reject(new WorkflowNotFoundError('not found', 'w', undefined)),
          query: () => Promise.reject(new Error('no state')),
        }),
      },
    } as unknown as Client;
    return { client, seen };
  }
  const down = () => temporal(() => Promise.reject(new Error('14 UNAVAILABLE: temporal is down')));
  const up = () => temporal(() => Promise.resolve({ firstExecutionRunId: 'run-1' }));
  const alreadyRunning = () => temporal(() => Promise.reject(new WorkflowExecutionAlreadyStartedError('started', 'w', 'T')));
  const verifications = (client: Client) => createVerificationService({ db: t.db, temporal: client, taskQueue: 'q', vault });

  async function verifiedMerchantWithShop(merchantId: string) {
    await t.db('merchants').insert({ id: merchantId, entity_type: 'individual', legal_name: '张三', verification_status: 'verified' });
    await t.db('shops').insert({ id: `shop-${merchantId}`, merchant_id: merchantId, shop_type: 'individual', opened_by_case_id: `vc-${merchantId}` });
  }

  describe('verification', () => {
    test('the case is recorded before its process starts, then tied to the run', async () => {
      const { client, seen } = up();
      const { caseId } = await verifications(client).start(individualRequest('m-order'), ops);
      expect(seen[0]?.cases).toEqual([expect.objectContaining({ id: caseId, status: 'in_review', run_id: null })]);
      expect(await t.db('verification_cases').where({ id: caseId }).first()).toMatchObject({ run_id: 'run-1' });
    });

    test('Temporal down: no case, no submission, and no merchant row the request created', async () => {
      const submissions = async () => Number((await t.db('verification_submissions').count<Array<{ count: string }>>('* as count'))[0]?.count);
      const before = await submissions();
      await expect(verifications(down().client).start(individualRequest('m-down'), ops)).rejects.toThrow('temporal is down');
      expect(await t.db('verification_cases').where({ merchant_id: 'm-down' })).toEqual([]);
      expect(await submissions()).toBe(before);
      expect(await t.db('merchants').where({ id: 'm-down' })).toEqual([]);
    });

    test('a review already open: the new case is taken back and the 409 names the open one', async () => {
      const { caseId: open } = await verifications(up().client).start(individualRequest('m-twice'), ops);
      const refusal = verifications(alreadyRunning().client).start(individualRequest('m-twice'), ops);
      await expect(refusal).rejects.toMatchObject({ status: 409, message: 'merchant m-twice already has an open verification case', extra: { caseId: open } });
      expect((await t.db('verification_cases').where({ merchant_id: 'm-twice' })).map((c: { id: string }) => c.id)).toEqual([open]);
    });
  });

  test('change of entity, Temporal down: no case, the merchant as it was', async () => {
    await verifiedMerchantWithShop('m-change');
    const { merchantId: _m, ...company } = enterpriseRequest('m-change');
    await expect(verifications(down().client).requestEntityChange('m-change', company, ops)).rejects.toThrow('temporal is down');
    expect(await t.db('verification_cases').where({ merchant_id: 'm-change' })).toEqual([]);
    expect(await t.db('merchants').where({ id: 'm-change' }).first()).toMatchObject({ verification_status: 'verified' });
  });

  describe('violation', () => {
    const body = (merchantId: string) => ({
      merchantId,
      shopId: `shop-${merchantId}`,
      type: 'other' as const,
      level: 'general' as const,
      evidence: { summary: 'seen by ops', productIds: [] },
    });
    const violations = (client: Client) => createViolationService({ db: t.db, temporal: client, taskQueue: 'q' });

    test('Temporal down: no case under the reference, so the same request may open it later', async () => {
      await verifiedMerchantWithShop('m-vio');
      await expect(violations(down().client).open(body('m-vio'), 'ticket-down', ops)).rejects.toThrow('temporal is down');
      expect(await t.db('violation_cases').where({ reference: 'ticket-down' })).toEqual([]);
      const { client, seen } = up();
      const opened = await violations(client).open(body('m-vio'), 'ticket-down', ops);
      expect(opened).toMatchObject({ status: 'opening', replayed: false });
      expect(seen[0]?.cases).toEqual([expect.objectContaining({ id: opened.caseId, status: 'opening' })]);
      expect(seen[0]?.options).toMatchObject({ workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    });
  });

  test('shop closure, Temporal down: no active closure (its row is cancelled, docs/rules.md §2)', async () => {
    await verifiedMerchantWithShop('m-close');
    const shops = createShopService({ db: t.db, temporal: down().client, taskQueue: 'q' });
    await expect(shops.requestClosure('shop-m-close', ops)).rejects.toThrow('temporal is down');
    expect(await t.db('shop_closures').where({ shop_id: 'shop-m-close' }).whereNotIn('status', ['cancelled'])).toEqual([]);
  });
});
