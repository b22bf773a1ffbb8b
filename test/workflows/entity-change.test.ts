import request from 'supertest';
import { createShopService, type ShopService } from '../../api/shops/service';
import { entityChangeWorkflowId } from '../../workflows/entity-change.defs';
import { apiFor, merchant, staff, type Api } from '../api/http';
import { enterpriseRequest, eventually, individualRequest, usccOf } from '../support/fixtures';
import { paymentIdOf } from '../support/payments';
import { depositState, merchantOf, openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

const INDIVIDUAL_BASE = 50_000; // [default] 500 CNY
const ENTERPRISE_BASE = 100_000; // [default] 1,000 CNY

/** The new entity a verified individual files: a company of its own, with its USCC. */
const newCompany = (merchantId: string) => {
  const { merchantId: _m, ...company } = enterpriseRequest(merchantId);
  return company;
};

describe('change of entity (entityChange workflow, through the API)', () => {
  let stack: Stack;
  let api: Api;
  let shops: ShopService;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  /** A verified individual whose shop paid its 500 CNY deposit. */
  async function fundedIndividual(merchantId: string): Promise<string> {
    const { shopId } = await openShop(stack, merchantId);
    const paymentId = await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: INDIVIDUAL_BASE });
    await shops.topUp(shopId, { account: 'deposit', paymentId }, merchantOf(merchantId));
    await depositState(stack, shopId, (s) => s.funded);
    return shopId;
  }
  const fileChange = async (merchantId: string, body: unknown = newCompany(merchantId)) => {
    const res = await api.post(`/v1/merchants/${merchantId}/entity-change`, merchant(merchantId), body);
    return res;
  };
  const openChange = async (merchantId: string): Promise<string> => {
    const res = await fileChange(merchantId);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ workflowId: entityChangeWorkflowId(merchantId), status: 'in_review' });
    const caseId = res.body.caseId as string;
    await eventually(() => api.view(caseId, staff.reviewer), (r) => r.status === 200 && r.body.deadline !== null);
    return caseId;
  };
  const snapshot = async (merchantId: string, shopId: string) => ({
    merchant: await stack.db('merchants').where({ id: merchantId }).first('entity_type', 'legal_name', 'verification_status'),
    shop: await stack.db('shops').where({ id: shopId }).first('shop_type', 'status'),
    requiredFen: Number((await stack.db('deposit_accounts').where({ shop_id: shopId }).first('required_fen')).required_fen),
    identity: await stack.db('identity_keys').where({ merchant_id: merchantId }).first('key', 'kind'),
  });

  test('approved: the individual shop becomes an enterprise shop with the enterprise deposit requirement', async () => {
    const merchantId = 'm-incorporates';
    const shopId = await fundedIndividual(merchantId);
    const before = await snapshot(merchantId, shopId);
    expect(before).toMatchObject({ merchant: { entity_type: 'individual' }, shop: { shop_type: 'individual' }, requiredFen: INDIVIDUAL_BASE, identity: { kind: 'resident_id' } });

    const caseId = await openChange(merchantId);
    const view = await api.view(caseId, staff.reviewer);
    expect(view.body).toMatchObject({ kind: 'entity_change', entityType: 'enterprise', status: 'in_review', duplicateIdentity: [] });
    expect(view.body.earlierCases).toEqual([expect.objectContaining({ kind: 'verification', status: 'approved', entityType: 'individual' })]);
    // Nothing changes while the change is in review.
    expect(await snapshot(merchantId, shopId)).toEqual(before);

    const decided = await api.decide(caseId, staff.reviewer, { decision: 'approve' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'approved' });
    expect(decided.body.history.at(-1)).toMatchObject({ type: 'approved', details: { from: 'individual', to: 'enterprise', shopId, requiredFen: ENTERPRISE_BASE } });

    expect(await snapshot(merchantId, shopId)).toEqual({
      merchant: { entity_type: 'enterprise', legal_name: newCompany(merchantId).legalName, verification_status: 'verified' },
      shop: { shop_type: 'enterprise', status: 'open' },
      requiredFen: ENTERPRISE_BASE,
      identity: { key: expect.not.stringMatching(before.identity.key), kind: 'uscc' },
    });
    // The deposit process holds the shop to the enterprise base: 500 CNY paid is now short.
    const deposit = await depositState(stack, shopId, (s) => s.requiredFen === ENTERPRISE_BASE);
    expect(deposit).toMatchObject({ balanceFen: INDIVIDUAL_BASE, requiredFen: ENTERPRISE_BASE });
    await depositState(stack, shopId, (s) => s.episode !== null);

    // The company's USCC now belongs to this merchant: another merchant cannot verify with it.
    const other = await api.start(merchant('m-copycat'), { ...enterpriseRequest('m-copycat'), uscc: usccOf(merchantId), boundStores: [] });
    expect(other.status).toBe(409);
  });

  test('rejected: the merchant, its shop, its deposit requirement and its identity number stay as they were', async () => {
    const merchantId = 'm-change-refused';
    const shopId = await fundedIndividual(merchantId);
    const before = await snapshot(merchantId, shopId);
    const caseId = await openChange(merchantId);

    const asked = await api.decide(caseId, staff.reviewer, { decision: 'request_info', reasons: ['licence blurred'] });
    expect(asked.status).toBe(409);
    expect(asked.body.detail).toMatch(/approved or rejected/);

    const decided = await api.decide(caseId, staff.reviewer, { decision: 'reject', reasons: ['licence does not match the name'] });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('rejected');
    await eventually(() => stack.env.client.workflow.getHandle(entityChangeWorkflowId(merchantId)).describe(), (d) => d.status.name === 'COMPLETED');

    expect(await snapshot(merchantId, shopId)).toEqual(before);
    expect(await depositState(stack, shopId)).toMatchObject({ requiredFen: INDIVIDUAL_BASE, episode: null });
    expect(await stack.db('verification_cases').where({ id: caseId }).first()).toMatchObject({ kind: 'entity_change', status: 'rejected' });
  });

  test('refusals: not verified, a second open change, a number another merchant holds, roles, bad input', async () => {
    await api.openCase('m-unverified');
    expect((await fileChange('m-unverified')).status).toBe(409);

    const merchantId = 'm-change-twice';
    await fundedIndividual(merchantId);
    const first = await openChange(merchantId);
    const second = await fileChange(merchantId);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ caseId: first });

    await fundedIndividual('m-holder');
    const taken = await fileChange('m-change-taken', individualRequest('m-holder'));
    expect(taken.status).toBe(400); // merchantId is not part of the body
    await fundedIndividual('m-change-taken');
    const { merchantId: _m, ...holdersId } = individualRequest('m-holder');
    const clash = await fileChange('m-change-taken', holdersId);
    expect(clash.status).toBe(409);
    expect(clash.body.detail).toMatch(/ID number belongs to another merchant/);

    for (const claims of [staff.finance, staff.reviewer, merchant('m-holder')]) {
      expect((await api.post('/v1/merchants/m-change-taken/entity-change', claims, newCompany('m-change-taken'))).status).toBe(403);
    }
    expect((await request(stack.app).post('/v1/merchants/m-change-taken/entity-change').send(newCompany('m-change-taken'))).status).toBe(401);

    const bad = await fileChange('m-change-taken', { ...newCompany('m-change-taken'), uscc: '91350100M000100Y44' });
    expect(bad.status).toBe(400);
    expect(await stack.db('verification_cases').where({ merchant_id: 'm-change-taken', kind: 'entity_change' })).toHaveLength(0);
    expect(await stack.db('shops').where({ merchant_id: 'm-change-taken' }).first()).toMatchObject({ shop_type: 'individual' });
  });
});
