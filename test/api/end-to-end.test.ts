import request from 'supertest';
import type { CallRecord } from '../../platform/sandbox';
import { eventually, individualRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api } from './http';

describe('end to end over HTTP: a merchant submits, a reviewer approves', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const platformCalls = async (query: Record<string, string>) => {
    const res = await fetch(`${stack.sandbox.url}/v1/calls?${new URLSearchParams(query)}`, {
      headers: { Authorization: 'Bearer test-platform-token' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { calls: CallRecord[] }).calls;
  };

  test('the merchant is verified, its shop opens, the case reads approved and the merchant is told once', async () => {
    const merchantId = 'm-e2e';
    const owner = merchant(merchantId);
    const started = await api.start(owner, individualRequest(merchantId));
    expect(started.status).toBe(202);
    const caseId: string = started.body.caseId;
    await eventually(() => api.view(caseId, owner), (r) => r.body.deadline !== null);
    expect(await stack.db('merchants').where({ id: merchantId }).first()).toMatchObject({ verification_status: 'in_review' });
    expect(await stack.db('shops').where({ merchant_id: merchantId })).toHaveLength(0);
    const approved = await api.decide(caseId, staff.reviewer, { decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');

    expect(await stack.db('merchants').where({ id: merchantId }).first()).toMatchObject({
      verification_status: 'verified',
      legal_name: '张三',
      verified_at: expect.any(Date),
    });
    expect(await stack.db('shops').where({ merchant_id: merchantId })).toEqual([
      expect.objectContaining({ id: `shop-${merchantId}`, shop_type: 'individual', status: 'open', opened_by_case_id: caseId }),
    ]);

    const view = await api.view(caseId, owner);
    expect(view.body).toMatchObject({ status: 'approved', overdue: false, closedAt: expect.any(String) });
    expect(view.body.history.map((h: { type: string }) => h.type)).toEqual(['submitted', 'deadline_set', 'approved']);
    expect(view.body.history[2]).toMatchObject({ actor: 'reviewer:rui', details: { shopId: `shop-${merchantId}` } });

    // The approval notice goes out after the decision returns; its key comes from the case and event.
    const key = `verification:${caseId}:notify:3`;
    const calls = await eventually(() => platformCalls({ idempotencyKey: key }), (found) => found.length > 0);
    expect(calls).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/notifications',
        idempotencyKey: key,
        status: expect.any(Number),
        body: { recipient: 'merchant', merchantId, template: 'verification_approved', data: { caseId } },
      }),
    ]);
    expect(calls[0]!.status).toBeLessThan(300);
    const delivered = stack.sandbox.state.notifications.filter((n) => n.merchantId === merchantId);
    expect(delivered).toEqual([expect.objectContaining({ recipient: 'merchant', template: 'verification_approved' })]);

    // The review is over: its workflow completed after notifying.
    await eventually(() => stack.env.client.workflow.getHandle(`verification:${merchantId}`).describe(), (d) => d.status.name === 'COMPLETED');

    const trail = await stack.db('audit_log').where({ target: caseId }).whereNot({ action: 'pii.read' }).orderBy('id');
    expect(trail.map((r) => [r.actor_role, r.action, r.outcome])).toEqual([
      ['merchant', 'verification.start', 'succeeded'],
      ['reviewer', 'verification.approve', 'succeeded'],
    ]);
  });

  test('the platform call log is guarded by the platform token', async () => {
    const res = await request(stack.sandbox.url).get('/v1/calls');
    expect(res.status).toBe(401);
  });
});
