import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEntityChangeActivities } from '../../activities/entity-change';
import { createVerificationActivities } from '../../activities/verification';
import { createIdentityKeyRepository } from '../../db/repositories/identity-keys';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import { createWorkingDayCalendar } from '../../domain/calendar';
import { DEFAULT_DEPOSIT_POLICY } from '../../domain/deposit-policy';
import { ErrorType } from '../../domain/errors';
import { DEFAULT_REVIEW_POLICY } from '../../domain/verification';
import type { PlatformClient } from '../../platform/types';
import { createPiiVault } from '../../security/pii';
import { enterpriseRequest, individualRequest, residentIdOf } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/db';

const vault = createPiiVault(randomBytes(32).toString('base64'), randomBytes(32).toString('base64'));

/** Last month's sales as the platform reports them; nothing else is called. */
function salesPlatform(gmvFen: number): PlatformClient {
  return new Proxy({} as PlatformClient, {
    get: (_target, name) =>
      name === 'monthlySales'
        ? async (shopId: string, month: string) => ({ shopId, month, gmvFen, byCategory: {} })
        : () => Promise.reject(new Error(`${String(name)} is not called here`)),
  });
}

describe('identity refusals and the entity change, over the real repositories', () => {
  let t: TestDb;
  const env = new MockActivityEnvironment();
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const verification = () =>
    createVerificationActivities({
      cases: createVerificationCaseRepository(t.db),
      merchants: createMerchantRepository(t.db),
      identityKeys: createIdentityKeyRepository(t.db),
      platform: salesPlatform(0),
      calendar: createWorkingDayCalendar(),
      policy: DEFAULT_REVIEW_POLICY,
    });

  async function fileCase(merchantId: string, body: ReturnType<typeof individualRequest>, kind: 'verification' | 'entity_change' = 'verification') {
    const caseId = `vc_${randomBytes(10).toString('hex')}`;
    await createMerchantRepository(t.db).ensureMerchant({ id: merchantId, entityType: body.entityType, legalName: body.legalName });
    await createVerificationCaseRepository(t.db).insertCase({
      id: caseId, merchantId, workflowId: `w:${merchantId}`, runId: 'r', entityType: body.entityType, legalName: body.legalName, submittedAt: new Date(), kind,
    });
    await createVerificationSubmissionRepository(t.db, vault).insert(caseId, 1, body, new Date());
    return caseId;
  }
  const failureOf = async (run: Promise<unknown>) => run.then(() => undefined, (err: unknown) => err as ApplicationFailure);

  test('approving a number another merchant holds is a final IdentityTaken failure: nothing verified, no shop', async () => {
    const activate = verification().activateMerchant;
    const first = await fileCase('m-act-a', individualRequest('m-act-a'));
    await expect(env.run(activate, { caseId: first, merchantId: 'm-act-a', entityType: 'individual' as const })).resolves.toEqual({ shopId: 'shop-m-act-a' });
    const second = await fileCase('m-act-b', { ...individualRequest('m-act-b'), idNumber: residentIdOf('m-act-a') });

    const failure = await failureOf(env.run(activate, { caseId: second, merchantId: 'm-act-b', entityType: 'individual' as const }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ErrorType.IdentityTaken, nonRetryable: true });
    expect(failure!.message).not.toContain(residentIdOf('m-act-a'));
    expect(await t.db('merchants').where({ id: 'm-act-b' }).first()).toMatchObject({ verification_status: 'unverified' });
    expect(await t.db('shops').where({ merchant_id: 'm-act-b' })).toHaveLength(0);
  });

  test('an approved change moves entity, number and shop type together; the requirement follows the type and the sales', async () => {
    const merchantId = 'm-act-change';
    const first = await fileCase(merchantId, individualRequest(merchantId));
    await env.run(verification().activateMerchant, { caseId: first, merchantId, entityType: 'individual' as const });
    const change = await fileCase(merchantId, enterpriseRequest(merchantId), 'entity_change');
    const activities = createEntityChangeActivities({ db: t.db, platform: salesPlatform(100_000 * 100), policy: DEFAULT_DEPOSIT_POLICY });

    const applied = await activities.applyEntityChange({ caseId: change, merchantId }); // no activity context needed
    expect(applied).toEqual({ shopId: `shop-${merchantId}`, shopType: 'enterprise' });
    expect(await env.run(activities.applyEntityChange, { caseId: change, merchantId })).toEqual(applied); // retried: the same
    expect(await t.db('shops').where({ merchant_id: merchantId }).first()).toMatchObject({ shop_type: 'enterprise' });
    expect(await t.db('merchants').where({ id: merchantId }).first()).toMatchObject({ entity_type: 'enterprise', legal_name: enterpriseRequest(merchantId).legalName });
    expect(await t.db('identity_keys').where({ merchant_id: merchantId }).pluck('kind')).toEqual(['uscc']);

    // 1,000 CNY enterprise base + 2,000 CNY for 100,000 CNY of sales last month, and beauty sold.
    await t.db('shop_categories').insert({ shop_id: applied.shopId, category: 'beauty', status: 'open' });
    const assessed = await env.run(activities.reassessDepositForShopType, { shopId: applied.shopId, shopType: 'enterprise' as const, asOf: '2026-11-15T04:00:00.000Z' });
    expect(assessed).toEqual({ requiredFen: (1_000 + 2_000 + 2_000) * 100, month: '2026-10' });
    expect(await t.db('deposit_accounts').where({ shop_id: applied.shopId }).first()).toMatchObject({ assessed_for_month: '2026-10' });
    expect(Number((await t.db('deposit_accounts').where({ shop_id: applied.shopId }).first()).required_fen)).toBe(500_000);
  });

  test("a change to a number another merchant holds changes nothing", async () => {
    const merchantId = 'm-act-steal';
    const first = await fileCase(merchantId, individualRequest(merchantId));
    await env.run(verification().activateMerchant, { caseId: first, merchantId, entityType: 'individual' as const });
    const change = await fileCase(merchantId, { ...individualRequest(merchantId), idNumber: residentIdOf('m-act-a'), legalName: '王五' }, 'entity_change');
    const activities = createEntityChangeActivities({ db: t.db, platform: salesPlatform(0), policy: DEFAULT_DEPOSIT_POLICY });
    const failure = await failureOf(env.run(activities.applyEntityChange, { caseId: change, merchantId }));
    expect(failure).toMatchObject({ type: ErrorType.IdentityTaken, nonRetryable: true });
    expect(await t.db('merchants').where({ id: merchantId }).first()).toMatchObject({ entity_type: 'individual', legal_name: '张三' });
    expect(await t.db('identity_keys').where({ merchant_id: merchantId }).pluck('kind')).toEqual(['resident_id']);
  });
});
