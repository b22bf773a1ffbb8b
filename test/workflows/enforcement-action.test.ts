import request from 'supertest';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { createEnforcementRepository } from '../../db/repositories/enforcement';
import { ENFORCEMENT_WORKFLOW_TYPE, enforcementStateQuery, enforcementWorkflowId, pauseEnforcementUpdate, approveEnforcementUpdate, type EnforcementResult } from '../../workflows/enforcement-action.defs';
import { feedOrdersOf, onPlatformFeed, platformRefundsByOrder, seedEnforcedShop } from '../support/enforcement';
import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { BUSINESS_STATUS } from '../../workflows/search-attributes';

const olga = { sub: 'olga', role: 'ops' as const };
const pan = { sub: 'pan', role: 'ops' as const };
const ada = { sub: 'ada', role: 'admin' as const };

/**
 * An enforcement action through the API, its process and the sandbox platform (time-skipping):
 * maker ≠ checker, a rejection that touches nothing, a mass refund with refusals listed for ops,
 * and pause / resume between pages. Audited.
 */
describe('enforcement action (time-skipping)', () => {
  let stack: Stack;
  let client: Client;
  const call = async (method: 'get' | 'post', path: string, who: { sub: string; role: 'ops' | 'admin' }, body?: object) => {
    const req = request(stack.app)[method](path).set('Authorization', `Bearer ${await stack.token(who)}`);
    return body ? req.send(body) : req;
  };

  beforeAll(async () => {
    stack = await startStack();
    // A plain client: awaiting results through the test env's would skip time to every run's timeout.
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('maker ≠ checker, then every order refunded and refusals listed with their reason', async () => {
    const shop = { shopId: 'shop-enf-api', merchantId: 'm-enf-api' };
    await seedEnforcedShop(stack.db, shop, 120);
    // The platform does not know the last order (say it was never paid on the platform).
    onPlatformFeed(stack.sandbox.state, (await feedOrdersOf(stack.db, shop.shopId)).filter((o) => o.orderId !== 'eo-shop-enf-api-0000119'));

    const opened = await call('post', '/v1/enforcement-actions', olga, { shopId: shop.shopId, reason: 'forged_brand_authorisation', evidence: 'brand owner: the authorisation letter is forged' });
    expect(opened.status).toBe(201);
    const { actionId } = opened.body as { actionId: string };
    expect(opened.body).toMatchObject({ state: 'awaiting_approval', openedBy: 'olga', progress: { done: 0, failed: 0, remaining: 118 } });
    expect((await call('post', '/v1/enforcement-actions', olga, { shopId: shop.shopId, reason: 'forged_brand_authorisation', evidence: 'bad\u0000text here' })).status).toBe(400);

    const self = await call('post', `/v1/enforcement-actions/${actionId}/approve`, olga, {});
    expect(self.status).toBe(403);
    expect(self.body.detail).toContain('maker ≠ checker');
    // The process refuses it too, whoever skips the API.
    const refused = await client.workflow.getHandle(enforcementWorkflowId(actionId)).executeUpdate(approveEnforcementUpdate, { args: [{ by: 'olga' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'Forbidden' });
    expect(stack.sandbox.state.shops.get(shop.shopId)?.restrictions.has('restrict_withdrawals') ?? false).toBe(false);

    const approved = await call('post', `/v1/enforcement-actions/${actionId}/approve`, pan, { note: 'evidence checked' });
    expect(approved.status).toBe(200);
    expect(stack.sandbox.state.shops.get(shop.shopId)!.restrictions.has('restrict_withdrawals')).toBe(true);
    const result = (await client.workflow.getHandle(enforcementWorkflowId(actionId)).result()) as EnforcementResult;
    expect(result).toEqual({ actionId, state: 'completed', refunded: 117, refused: 1 });

    const view = await call('get', `/v1/enforcement-actions/${actionId}`, ada);
    expect(view.body).toMatchObject({ state: 'completed', approvedBy: 'pan', progress: { done: 117, failed: 1, remaining: 0 } });
    const refusals = await call('get', `/v1/enforcement-actions/${actionId}/refunds?state=refused`, olga);
    expect(refusals.body).toEqual({ items: [expect.objectContaining({ orderId: 'eo-shop-enf-api-0000119', state: 'refused', reasonCode: 'order_unknown', platformRefundId: null })], nextCursor: null });
    const firstPage = await call('get', `/v1/enforcement-actions/${actionId}/refunds?limit=100`, olga);
    expect(firstPage.body.items).toHaveLength(100);
    const secondPage = await call('get', `/v1/enforcement-actions/${actionId}/refunds?limit=100&cursor=${firstPage.body.nextCursor as string}`, olga);
    expect(secondPage.body).toMatchObject({ nextCursor: null });
    expect(secondPage.body.items).toHaveLength(18);
    expect([...platformRefundsByOrder(stack.sandbox.state, shop.shopId).values()]).toEqual(Array(117).fill(1));

    const audited = await eventually(
      () => stack.db('audit_log').where({ target: `enforcement:${actionId}` }).whereNot({ outcome: 'attempted' }).orderBy('id').select('action', 'actor_sub', 'outcome'),
      (rows) => rows.length >= 3,
      5_000,
    );
    expect(audited).toEqual([
      { action: 'enforcement.open', actor_sub: 'olga', outcome: 'succeeded' },
      { action: 'enforcement.approve', actor_sub: 'olga', outcome: 'refused' },
      { action: 'enforcement.approve', actor_sub: 'pan', outcome: 'succeeded' },
    ]);
  });

  test('a rejected action restricts nothing and refunds nothing', async () => {
    const shop = { shopId: 'shop-enf-rej', merchantId: 'm-enf-rej' };
    await seedEnforcedShop(stack.db, shop, 10);
    const opened = await call('post', '/v1/enforcement-actions', ada, { shopId: shop.shopId, reason: 'counterfeit_goods', evidence: 'a buyer report that turned out wrong' });
    const { actionId } = opened.body as { actionId: string };
    expect((await call('post', `/v1/enforcement-actions/${actionId}/reject`, ada, {})).status).toBe(403);
    const rejected = await call('post', `/v1/enforcement-actions/${actionId}/reject`, olga, { note: 'the report was wrong' });
    expect(rejected.body).toMatchObject({ state: 'rejected', rejectedBy: 'olga', progress: { done: 0, failed: 0, remaining: 0 } });
    expect(await client.workflow.getHandle(enforcementWorkflowId(actionId)).result()).toMatchObject({ state: 'rejected' });
    expect(stack.sandbox.state.shops.get(shop.shopId)?.restrictions.size ?? 0).toBe(0);
    expect((await call('post', `/v1/enforcement-actions/${actionId}/approve`, pan, {})).status).toBe(409);
  });

  test('paused between pages, nothing more is sent until resumed; then it finishes', async () => {
    const shop = { shopId: 'shop-enf-pause', merchantId: 'm-enf-pause' };
    await seedEnforcedShop(stack.db, shop, 400);
    onPlatformFeed(stack.sandbox.state, await feedOrdersOf(stack.db, shop.shopId));
    const actionId = 'enf_00000000000000000000beef';
    await createEnforcementRepository(stack.db).insertAction({ id: actionId, shop_id: shop.shopId, merchant_id: shop.merchantId, reason: 'fraudulent_sales', evidence: 'orders paid from one account', opened_by: 'olga', workflow_id: enforcementWorkflowId(actionId) });
    // Small pages, one per call, each call slowed: the pause lands between pages.
    stack.sandbox.state.settings.latencyMs = 40;
    try {
      const handle = await client.workflow.start(ENFORCEMENT_WORKFLOW_TYPE, {
        workflowId: enforcementWorkflowId(actionId),
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        args: [{ actionId, shopId: shop.shopId, merchantId: shop.merchantId, openedBy: 'olga', pageSize: 10, pagesPerCall: 1 }],
      });
      expect((await call('post', `/v1/enforcement-actions/${actionId}/approve`, pan, {})).status).toBe(200);
      await eventually(() => stack.db('enforcement_refunds').where({ action_id: actionId }).count({ n: '*' }), ([r]) => Number(r!.n) >= 30, 10_000);
      const paused = await call('post', `/v1/enforcement-actions/${actionId}/pause`, olga, { note: 'brand owner asked to check first' });
      expect(paused.body).toMatchObject({ state: 'paused' });
      // At most the page in flight lands after the pause.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const atPause = Number((await stack.db('enforcement_refunds').where({ action_id: actionId }).count({ n: '*' }))[0]!.n);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(Number((await stack.db('enforcement_refunds').where({ action_id: actionId }).count({ n: '*' }))[0]!.n)).toBe(atPause);
      expect(atPause).toBeLessThan(392);
      const shown = await handle.query(enforcementStateQuery);
      expect(shown).toMatchObject({ state: 'paused', progress: { done: atPause, failed: 0, remaining: 392 - atPause } });
      expect((await call('post', `/v1/enforcement-actions/${actionId}/pause`, olga, {})).status).toBe(409);
      await expect(handle.executeUpdate(pauseEnforcementUpdate, { args: [{ by: 'olga' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);

      expect((await call('post', `/v1/enforcement-actions/${actionId}/resume`, pan, {})).body).toMatchObject({ state: 'refunding' });
      expect(await handle.result()).toEqual({ actionId, state: 'completed', refunded: 392, refused: 0 });
      expect(platformRefundsByOrder(stack.sandbox.state, shop.shopId).size).toBe(392);
      const audited = await eventually(
        () => stack.db('audit_log').where({ target: `enforcement:${actionId}` }).whereIn('action', ['enforcement.pause', 'enforcement.resume']).orderBy('id').select('action', 'outcome'),
        (rows) => rows.filter((r) => r.outcome !== 'attempted').length >= 3,
        5_000,
      );
      expect(audited.filter((r) => r.outcome !== 'attempted')).toEqual([
        { action: 'enforcement.pause', outcome: 'succeeded' },
        { action: 'enforcement.pause', outcome: 'refused' },
        { action: 'enforcement.resume', outcome: 'succeeded' },
      ]);
    } finally {
      stack.sandbox.state.settings.latencyMs = 0;
    }
  });
  test('a page the platform refuses for good (400) waits for ops, shown in the API, the row and the Web UI; their retry finishes it', async () => {
    const shop = { shopId: 'shop-enf-att', merchantId: 'm-enf-att' };
    await seedEnforcedShop(stack.db, shop, 40);
    // An order id longer than the platform takes (200): its page is refused whole with a 400.
    const [template] = await stack.db('orders').where({ id: 'eo-shop-enf-att-0000020' });
    const longId = `eo-shop-enf-att-0000020${'x'.repeat(200)}`;
    await stack.db('orders').insert({ ...template, id: longId });
    onPlatformFeed(stack.sandbox.state, await feedOrdersOf(stack.db, shop.shopId));
    const opened = await call('post', '/v1/enforcement-actions', olga, { shopId: shop.shopId, reason: 'fraudulent_sales', evidence: 'orders paid from one account' });
    const { actionId } = opened.body as { actionId: string };
    expect((await call('post', `/v1/enforcement-actions/${actionId}/approve`, pan, {})).status).toBe(200);

    const waiting = await eventually(() => call('get', `/v1/enforcement-actions/${actionId}`, ada), (r) => r.body.state === 'needs_attention', 20_000);
    expect(waiting.body).toMatchObject({ attention: { step: 'refundEnforcementPages', error: expect.stringContaining('failed with 400') }, progress: { done: 0, failed: 0 } });
    expect(await stack.db('enforcement_actions').where({ id: actionId }).first()).toMatchObject({ state: 'needs_attention', attention_step: 'refundEnforcementPages' });
    const described = await client.workflow.getHandle(enforcementWorkflowId(actionId)).describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.typedSearchAttributes.get(BUSINESS_STATUS)).toBe('needs_attention');
    expect((await call('post', `/v1/enforcement-actions/${actionId}/pause`, olga, {})).status).toBe(409);
    // The refunds must be made: abandoning is refused, and nothing was paid.
    expect((await call('post', `/v1/enforcement-actions/${actionId}/attention`, olga, { action: 'abandon' })).status).toBe(409);
    expect(platformRefundsByOrder(stack.sandbox.state, shop.shopId).size).toBe(0);

    // Ops find the order that is not the platform's and take it out; then retry.
    await stack.db('orders').where({ id: longId }).update({ status: 'refunded', refunded_at: new Date() });
    const retried = await call('post', `/v1/enforcement-actions/${actionId}/attention`, olga, { action: 'retry', note: 'order with a malformed id taken out' });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ action: 'retry', step: 'refundEnforcementPages' });
    expect(await client.workflow.getHandle(enforcementWorkflowId(actionId)).result()).toEqual({ actionId, state: 'completed', refunded: 40, refused: 0 });
    expect((await call('get', `/v1/enforcement-actions/${actionId}`, ada)).body).toMatchObject({ state: 'completed', attention: null, progress: { done: 40, failed: 0, remaining: 0 } });
    expect((await call('post', `/v1/enforcement-actions/${actionId}/attention`, olga, { action: 'retry' })).status).toBe(409);
    const audited = await eventually(
      () => stack.db('audit_log').where({ target: `enforcement:${actionId}` }).where('action', 'like', 'enforcement.attention%').orderBy('id').select('action', 'outcome'),
      (rows) => rows.filter((r) => r.outcome !== 'attempted').length >= 3,
      5_000,
    );
    expect(audited.filter((r) => r.outcome !== 'attempted')).toEqual([
      { action: 'enforcement.attention_abandon', outcome: 'refused' },
      { action: 'enforcement.attention_retry', outcome: 'succeeded' },
      { action: 'enforcement.attention_retry', outcome: 'refused' },
    ]);
  });
});
