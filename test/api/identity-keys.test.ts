import { enterpriseRequest, eventually, individualRequest, residentIdOf, usccOf } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { decideUpdate, verificationWorkflowId } from '../../workflows/verification.defs';
import { apiFor, merchant, staff, type Api } from './http';

/**
 * One identity number belongs to one merchant (issue 9): a company's USCC or a person's
 * resident ID, however it is spelt, verifies one merchant only, and a verified merchant
 * changes its entity only through the entity-change review.
 */
describe('one identity number, one merchant', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const approve = async (caseId: string) => {
    const res = await api.decide(caseId, staff.reviewer, { decision: 'approve' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('approved');
  };
  const asCompany = (merchantId: string, uscc: string) => {
    const body = enterpriseRequest(merchantId);
    return { ...body, uscc, boundStores: body.boundStores!.map((s) => ({ ...s, realNameEntity: { ...s.realNameEntity, uscc } })) };
  };

  test("a second merchant filing a verified company's USCC is refused with a 409, and nothing starts", async () => {
    await approve(await api.openCase('m-co-first', enterpriseRequest('m-co-first')));
    const res = await api.start(merchant('m-co-second'), asCompany('m-co-second', usccOf('m-co-first')));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'conflict', detail: expect.stringMatching(/USCC .*belongs to another merchant/) });
    // The merchant is not told who holds it, nor is the number echoed.
    expect(res.text).not.toContain('m-co-first');
    expect(res.text).not.toContain(usccOf('m-co-first'));
    await api.expectNothingStartedFor('m-co-second');
  });

  test.each([
    ['a lower-case x', 'lower', (id: string) => id.toLowerCase()],
    ['spaces and hyphens', 'grouped', (id: string) => `${id.slice(0, 6)} ${id.slice(6, 14)}-${id.slice(14).toLowerCase()}`],
    ['surrounding blanks', 'blanks', (id: string) => `  ${id} `],
  ])('the same resident ID written with %s is the same person: 409', async (_how, tag, respell) => {
    const holder = `m-person-${tag}`;
    const other = `${holder}-again`;
    await approve(await api.openCase(holder));
    const res = await api.start(merchant(other), { ...individualRequest(other), idNumber: respell(residentIdOf(holder)) });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/ID number .*belongs to another merchant/);
    await api.expectNothingStartedFor(other);
  });

  test('a verified merchant cannot file a plain verification as another entity: 409, shop and deposit base unchanged', async () => {
    await approve(await api.openCase('m-switch'));
    const res = await api.start(merchant('m-switch'), enterpriseRequest('m-switch'));
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/already verified.*entity-change/);
    expect(await stack.db('merchants').where({ id: 'm-switch' }).first()).toMatchObject({ entity_type: 'individual', verification_status: 'verified' });
    expect(await stack.db('shops').where({ merchant_id: 'm-switch' }).first()).toMatchObject({ shop_type: 'individual' });
    expect(await stack.db('verification_cases').where({ merchant_id: 'm-switch' })).toHaveLength(1);
  });

  test('a merchant re-filing its own number after a rejection is fine', async () => {
    const first = await api.openCase('m-refile');
    expect((await api.decide(first, staff.reviewer, { decision: 'reject', reasons: ['photo unreadable'] })).status).toBe(200);
    await eventually(() => api.runningWorkflowsOf('m-refile'), (n) => n === 0);
    const again = await api.start(merchant('m-refile'), { ...individualRequest('m-refile'), idNumber: residentIdOf('m-refile').toLowerCase() });
    expect(again.status).toBe(202);
    await approve(await api.openCase('m-refile-other'));
  });

  describe('two open cases with one number', () => {
    let firstCase: string;
    let secondCase: string;
    let thirdCase: string;
    beforeAll(async () => {
      firstCase = await api.openCase('m-dup-a');
      secondCase = await api.openCase('m-dup-b', { ...individualRequest('m-dup-b'), idNumber: residentIdOf('m-dup-a') });
      thirdCase = await api.openCase('m-dup-c', { ...individualRequest('m-dup-c'), idNumber: residentIdOf('m-dup-a') });
    });

    test("the reviewer sees the duplicate and the merchant's earlier cases; ops and the merchant do not see the duplicate", async () => {
      const reviewerView = await api.view(secondCase, staff.reviewer);
      expect(reviewerView.status).toBe(200);
      expect(reviewerView.body).toMatchObject({ kind: 'verification', earlierCases: [] });
      expect(reviewerView.body.duplicateIdentity).toEqual([
        { merchantId: 'm-dup-a', verified: false, caseIds: [firstCase] },
        { merchantId: 'm-dup-c', verified: false, caseIds: [thirdCase] },
      ]);
      for (const claims of [staff.ops, merchant('m-dup-b')]) {
        const res = await api.view(secondCase, claims);
        expect(res.status).toBe(200);
        expect(res.body.duplicateIdentity).toBeUndefined();
        expect(res.text).not.toContain('m-dup-a');
      }
    });

    test('once one is approved, approving the other is a 409 and its case stays in review', async () => {
      await approve(firstCase);
      const res = await api.decide(secondCase, staff.reviewer, { decision: 'approve' });
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/belongs to another merchant/);
      expect((await api.view(secondCase, staff.reviewer)).body).toMatchObject({
        status: 'in_review',
        duplicateIdentity: [
          { merchantId: 'm-dup-a', verified: true, caseIds: [firstCase] },
          { merchantId: 'm-dup-c', verified: false, caseIds: [thirdCase] },
        ],
      });
      expect(await stack.db('merchants').where({ id: 'm-dup-b' }).first()).toMatchObject({ verification_status: 'in_review' });
      expect(await stack.db('shops').where({ merchant_id: 'm-dup-b' })).toHaveLength(0);
    });

    test('an approval racing past the check (straight to the workflow) is rejected by the workflow, and nothing is verified', async () => {
      const state = await stack.env.client.workflow
        .getHandle(verificationWorkflowId('m-dup-c'))
        .executeUpdate(decideUpdate, { args: [{ decision: 'approve', reasons: [], reviewer: 'reviewer:rui' }] });
      expect(state.status).toBe('rejected');
      expect(state.history.at(-1)).toMatchObject({
        type: 'rejected',
        actor: 'system',
        details: { reasons: ['the identity number belongs to another merchant'], approvedBy: 'reviewer:rui' },
      });
      expect((await api.view(thirdCase, staff.reviewer)).body).toMatchObject({ status: 'rejected' });
      expect(await stack.db('merchants').where({ id: 'm-dup-c' }).first()).toMatchObject({ verification_status: 'rejected' });
      expect(await stack.db('shops').where({ merchant_id: 'm-dup-c' })).toHaveLength(0);
      expect(await stack.db('identity_keys').where({ merchant_id: 'm-dup-c' })).toHaveLength(0);
    });

    test("a rejected case's merchant files again: the reviewer sees its earlier case", async () => {
      expect((await api.decide(secondCase, staff.reviewer, { decision: 'reject', reasons: ['identity belongs to m-dup-a'] })).status).toBe(200);
      await eventually(() => api.runningWorkflowsOf('m-dup-b'), (n) => n === 0);
      const next = await api.openCase('m-dup-b');
      const view = await api.view(next, staff.reviewer);
      expect(view.body.earlierCases).toEqual([
        expect.objectContaining({ caseId: secondCase, kind: 'verification', status: 'rejected', entityType: 'individual' }),
      ]);
      // Its new case files its own number: no duplicate.
      expect(view.body.duplicateIdentity).toEqual([]);
    });
  });
});
