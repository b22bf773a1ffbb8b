import { Client, WorkflowUpdateStage } from '@temporalio/client';
import request from 'supertest';
import { BUSINESS_STATUS } from '../../workflows/search-attributes';
import { decideUpdate, verificationStateQuery, type VerificationState } from '../../workflows/verification.defs';
import { resolveAttentionUpdate } from '../../workflows/attention.defs';
import { closureStateQuery } from '../../workflows/shop-closure.defs';
import { appealUpdate, violationStateQuery, type ViolationCaseState } from '../../workflows/violation-case.defs';
import type { PlatformClient } from '../../platform/types';
import type { TokenClaims } from '../../security/tokens';
import { eventually, individualRequest } from '../support/fixtures';
import { paymentIdOf } from '../support/payments';
import { depositState, expectLedgerWhole, openShop, ops } from '../support/shops';
import { createShopService } from '../../api/shops/service';
import { HttpError } from '../../api/errors';
import { asOwner } from '../support/owner-sql';
import { startStack, type Stack } from '../support/stack';
import { caseHandle, openViolation } from '../support/violations';
import { merchant, staff } from '../api/http';

const NUL = '\u0000';

/** Holds the platform's relist call while `held` is set, so an appeal decision cannot finish. */
function holdRelisting(gate: { held: boolean }) {
  return (platform: PlatformClient): PlatformClient => ({
    ...platform,
    async relistProducts(shopId, change, key) {
      while (gate.held) await new Promise((r) => setTimeout(r, 100));
      return platform.relistProducts(shopId, change, key);
    },
  });
}

/**
 * A step whose text the database refuses for good (text that reached a process past the API,
 * e.g. from a client that skipped it) no longer wedges its process: the process stops in
 * needs_attention, visible in the case view and the Web UI's BusinessStatus, and ops move it on.
 */
describe('a step that fails for good waits for ops (time-skipping)', () => {
  let stack: Stack;
  const relist = { held: false };
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000', API_UPDATE_WAIT_MS: '1500' }, { wrapPlatform: holdRelisting(relist) });
  });
  afterAll(async () => {
    relist.held = false;
    await stack?.teardown();
  });

  const http = async (method: 'get' | 'post', path: string, claims: TokenClaims, body?: unknown) => {
    const req = request(stack.app)[method](path).set('Authorization', `Bearer ${await stack.token(claims)}`);
    return body === undefined ? req : req.send(body as object);
  };
  const verificationState = (workflowId: string, done: (s: VerificationState) => boolean) =>
    eventually(() => stack.env.client.workflow.getHandle(workflowId).query(verificationStateQuery), done);
  const violationState = (caseId: string, done: (s: ViolationCaseState) => boolean) =>
    eventually(() => caseHandle(stack, caseId).query(violationStateQuery), done);
  const statusAttribute = async (workflowId: string) => (await stack.env.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(BUSINESS_STATUS);

  test("a reviewer's reason holding NUL: the case needs attention, blocks a new filing, and ops abandoning it frees the merchant", async () => {
    const merchantId = 'm-wedged';
    const started = await stack.verifications.start(individualRequest(merchantId), merchant(merchantId) as never, new Date(await stack.env.currentTimeMs()));
    const handle = stack.env.client.workflow.getHandle(started.workflowId);
    await verificationState(started.workflowId, (s) => s.deadline !== null);

    const decision = await handle.startUpdate(decideUpdate, {
      args: [{ decision: 'reject', reasons: [`private words${NUL}`], reviewer: 'reviewer:rui' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    const stuck = await verificationState(started.workflowId, (s) => s.status === 'needs_attention');
    expect(stuck.attention).toMatchObject({ step: 'record rejected', statusBefore: 'in_review', abandonable: true });
    expect(stuck.attention!.error).toMatch(/^recordCaseEvent failed for good: .*SQLSTATE 22P05/);
    expect(stuck.attention!.error).not.toContain('private words');
    expect(await statusAttribute(started.workflowId)).toBe('needs_attention');

    const view = await http('get', `/v1/verifications/${started.caseId}`, staff.ops);
    expect(view.body).toMatchObject({ status: 'needs_attention', attention: { step: 'record rejected', error: stuck.attention!.error } });
    expect(view.body.history.map((h: { type: string }) => h.type)).toEqual(['submitted', 'deadline_set', 'needs_attention']);

    // The merchant is told which case holds it.
    const again = await http('post', '/v1/verifications', merchant(merchantId), individualRequest(merchantId));
    expect({ status: again.status, caseId: again.body.caseId }).toEqual({ status: 409, caseId: started.caseId });

    // A merchant may not answer for ops; nothing waits for ops on a case that is fine.
    expect((await http('post', `/v1/verifications/${started.caseId}/attention`, merchant(merchantId), { action: 'abandon' })).status).toBe(403);

    // Retry runs the step again: the same reason is refused again, and the case waits again.
    const retried = await http('post', `/v1/verifications/${started.caseId}/attention`, staff.ops, { action: 'retry' });
    expect(retried.body).toMatchObject({ action: 'retry', step: 'record rejected' });
    const again2 = await verificationState(started.workflowId, (s) => s.history.filter((h) => h.type === 'needs_attention').length === 2 && s.status === 'needs_attention');
    expect(again2.history.map((h) => h.type)).toEqual(['submitted', 'deadline_set', 'needs_attention', 'attention_resolved', 'needs_attention']);

    const abandoned = await http('post', `/v1/verifications/${started.caseId}/attention`, staff.ops, { action: 'abandon', note: 'reason could not be stored; reviewer asked to decide again' });
    expect(abandoned.status).toBe(200);
    await eventually(() => handle.describe(), (d) => d.status.name === 'COMPLETED');
    expect(await new Client({ connection: stack.env.connection }).workflow.getHandle(started.workflowId).result()).toEqual({ status: 'closed_by_ops' });
    // The reviewer's update, held all along, is answered with the closed case.
    expect((await decision.result()).status).toBe('closed_by_ops');
    expect(await stack.db('verification_cases').where({ id: started.caseId }).first()).toMatchObject({ status: 'closed_by_ops' });

    const fresh = await http('post', '/v1/verifications', merchant(merchantId), individualRequest(merchantId));
    expect(fresh.status).toBe(202);
    await stack.env.client.workflow.getHandle(fresh.body.workflowId).terminate('test over');
  });

  test('an appeal statement holding NUL: the case needs attention; ops drop the appeal and the merchant appeals again', async () => {
    const merchantId = 'm-appeal-nul';
    const { shopId } = await openShop(stack, merchantId);
    const c = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'general' });
    await violationState(c.caseId, (s) => s.status === 'appealable');

    await caseHandle(stack, c.caseId).startUpdate(appealUpdate, {
      args: [{ statement: `it was fine${NUL}`, actor: `u-${merchantId}` }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    const stuck = await violationState(c.caseId, (s) => s.attention != null);
    expect(stuck.attention).toMatchObject({ step: 'record appeal_filed', statusBefore: 'appealable' });
    expect(await statusAttribute(`violation:${c.caseId}`)).toBe('needs_attention');
    const view = await eventually(
      () => http('get', `/v1/violations/${c.caseId}`, staff.ops),
      (r) => r.body.status === 'needs_attention',
    );
    expect(view.body.attention).toMatchObject({ step: 'record appeal_filed', error: expect.stringMatching(/failed for good/) });
    expect(JSON.stringify(view.body)).not.toContain('it was fine');
    // What counts towards the shop's record is unchanged.
    expect(await stack.db('violation_cases').where({ id: c.caseId }).first()).toMatchObject({ status: 'appealable', appeal: null });

    const answered = await http('post', `/v1/violations/${c.caseId}/attention`, staff.ops, { action: 'abandon' });
    expect(answered.body).toMatchObject({ action: 'abandon', step: 'record appeal_filed', status: 'appealable' });
    await violationState(c.caseId, (s) => s.status === 'appealable' && s.appeal === null && s.attention === null);
    expect(await statusAttribute(`violation:${c.caseId}`)).toBe('appealable');

    const appealed = await http('post', `/v1/violations/${c.caseId}/appeal`, merchant(merchantId), { statement: 'the label was wrong, not the fabric' });
    expect({ status: appealed.status, caseStatus: appealed.body.status, attention: appealed.body.attention }).toEqual({ status: 200, caseStatus: 'appealed', attention: null });
  });

  test('an update that cannot finish in time answers 202 with the case as it stands, and finishes later', async () => {
    const merchantId = 'm-slow-relist';
    const { shopId } = await openShop(stack, merchantId);
    const c = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'general', productIds: ['p-1'] });
    await violationState(c.caseId, (s) => s.status === 'appealable');
    expect((await http('post', `/v1/violations/${c.caseId}/appeal`, merchant(merchantId), { statement: 'relabelled' })).status).toBe(200);

    relist.held = true;
    const pending = await http('post', `/v1/violations/${c.caseId}/appeal-decision`, { sub: 'rita', role: 'reviewer' }, { decision: 'upheld', reasons: [] });
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ status: 'accepted', accepted: true, requestId: pending.headers['x-request-id'], state: { caseId: c.caseId, status: 'reversed' } });
    expect(pending.body.message).toMatch(/still running/);

    relist.held = false;
    await eventually(() => stack.db('violation_cases').where({ id: c.caseId }).first(), (row) => row?.status === 'reversed');
  });

  test('a deduction whose reason the database refuses fails at once with 422; the deposit process takes the next movement', async () => {
    const merchantId = 'm-deduct-nul';
    const { shopId } = await openShop(stack, merchantId);
    // The service, as a caller past the API's edge would reach the process.
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 1500 });
    await shops.topUp(shopId, { account: 'deposit', paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, ops);
    const refused = await shops.deduct(shopId, { account: 'deposit', amountFen: 100, reason: `fine${NUL}`, reference: 'fine-nul' }, ops).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 422, code: 'unprocessable', message: expect.stringMatching(/^postMovement failed for good: .*SQLSTATE 22/) });
    expect((refused as Error).message).not.toContain('fine');
    const after = await shops.deduct(shopId, { account: 'deposit', amountFen: 100, reason: 'fine', reference: 'fine-ok' }, ops);
    expect(after.balanceFen).toBe(49_900);
    expect((await depositState(stack, shopId)).balanceFen).toBe(49_900);
    await expectLedgerWhole(stack, shopId);
  });

  test("a step of the deposit's own loop that the database refuses waits in needs_attention; ops retry once the data is fixed", async () => {
    const merchantId = 'm-episode-refused';
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 1500 });
    const { requiredFen } = await depositState(stack, shopId);
    await shops.topUp(shopId, { account: 'deposit', paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: requiredFen }) }, ops);
    await depositState(stack, shopId, (s) => s.funded);

    // A rule the episode row breaks, as a bad migration or a hand-made constraint would.
    await asOwner(stack.db, `ALTER TABLE deposit_episodes ADD CONSTRAINT test_refuses_episodes CHECK (shop_id <> '${shopId}')`);
    try {
      await shops.deduct(shopId, { account: 'deposit', amountFen: 100, reason: 'fine', reference: 'fine-short' }, ops);
      const stuck = await depositState(stack, shopId, (s) => s.attention != null);
      expect(stuck.attention).toMatchObject({ step: 'start shortfall episode', abandonable: false });
      expect(stuck.attention!.error).toMatch(/^startEpisode failed for good: .*SQLSTATE 23514/);
      expect(await statusAttribute(`deposit:${shopId}`)).toBe('needs_attention');
      // Abandoning is not offered: a shop's deposit has nothing to give up.
      const handle = stack.env.client.workflow.getHandle(`deposit:${shopId}`);
      await expect(handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'abandon', actor: 'ops:olga' }] })).rejects.toThrow();
    } finally {
      await asOwner(stack.db, 'ALTER TABLE deposit_episodes DROP CONSTRAINT test_refuses_episodes');
    }
    const handle = stack.env.client.workflow.getHandle(`deposit:${shopId}`);
    expect(await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'ops:olga' }] })).toEqual({ action: 'retry', step: 'start shortfall episode' });
    const moving = await depositState(stack, shopId, (s) => s.attention === null && s.episode !== null);
    expect(moving.balanceFen).toBe(requiredFen - 100);
    expect(await stack.db('deposit_episodes').where({ shop_id: shopId, ended_at: null })).toHaveLength(1);
    await eventually(() => statusAttribute(`deposit:${shopId}`), (status) => status === 'shortfall');
  });

  test('a closure step the database refuses waits in needs_attention (no abandoning once money may move); a retry after the fix closes the shop', async () => {
    const merchantId = 'm-closure-refused';
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 1500 });
    const closure = stack.env.client.workflow.getHandle(`closure:${shopId}`);
    await asOwner(stack.db, `ALTER TABLE shop_closures ADD CONSTRAINT test_refuses_settling CHECK (status <> 'settling')`);
    try {
      await shops.requestClosure(shopId, merchant(merchantId) as never);
      const stuck = await eventually(() => closure.query(closureStateQuery), (s) => s.attention != null);
      expect(stuck.attention).toMatchObject({ step: 'recordClosureStatus', abandonable: false });
      expect(stuck.attention!.error).toMatch(/SQLSTATE 23514/);
      expect(await statusAttribute(`closure:${shopId}`)).toBe('needs_attention');
    } finally {
      await asOwner(stack.db, 'ALTER TABLE shop_closures DROP CONSTRAINT test_refuses_settling');
    }
    await closure.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'ops:olga' }] });
    const closed = await eventually(() => closure.query(closureStateQuery), (s) => s.status === 'closed');
    expect(closed.attention).toBeNull();
    expect(await stack.db('shops').where({ id: shopId }).first()).toMatchObject({ status: 'closed' });
    await eventually(() => statusAttribute(`closure:${shopId}`), (status) => status === 'closed');
  });
});
