import request from 'supertest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { verificationWorkflowId } from '../../workflows/verification.defs';
import type { TokenClaims } from '../../security/tokens';
import { eventually, individualRequest } from '../support/fixtures';
import type { Stack } from '../support/stack';

/** Helpers the API suites share: tokens per role, HTTP calls, and looks behind the API. */

export const staff = {
  ops: { sub: 'olga', role: 'ops' },
  reviewer: { sub: 'rui', role: 'reviewer' },
  finance: { sub: 'fang', role: 'finance' },
  admin: { sub: 'ada', role: 'admin' },
} satisfies Record<string, TokenClaims>;

export const merchant = (merchantId: string): TokenClaims => ({ sub: `u-${merchantId}`, role: 'merchant', merchantId });

export interface AuditRow {
  request_id: string;
  actor_sub: string;
  actor_role: string;
  action: string;
  target: string | null;
  status_code: number | null;
  outcome: string;
  details: Record<string, unknown>;
}

/**
 * Another merchant's record must be answered exactly like a missing one (so ids cannot be
 * enumerated): both 404 with the same body keys, code and message once the id is swapped.
 */
export function expectAnsweredAsMissing(
  intruder: { status: number; body: Record<string, unknown> },
  missing: { status: number; body: Record<string, unknown> },
  ids: { existing: string; unknown: string },
): void {
  const shape = (res: typeof intruder, id: string) => ({
    status: res.status,
    keys: Object.keys(res.body).sort(),
    code: res.body.code,
    message: String(res.body.detail).split(id).join('<id>'),
  });
  expect(shape(intruder, ids.existing)).toEqual(shape(missing, ids.unknown));
  expect(missing.status).toBe(404);
}

export function apiFor(stack: Stack) {
  const bearer = async (claims: TokenClaims) => `Bearer ${await stack.token(claims)}`;

  const api = {
    async post(path: string, claims: TokenClaims, body: unknown) {
      return request(stack.app).post(path).set('Authorization', await bearer(claims)).send(body as object);
    },
    async put(path: string, claims: TokenClaims, body: unknown) {
      return request(stack.app).put(path).set('Authorization', await bearer(claims)).send(body as object);
    },
    async get(path: string, claims: TokenClaims) {
      return request(stack.app).get(path).set('Authorization', await bearer(claims));
    },
    start: (claims: TokenClaims, body: unknown) => api.post('/v1/verifications', claims, body),
    view: (caseId: string, claims: TokenClaims) => api.get(`/v1/verifications/${caseId}`, claims),
    decide: (caseId: string, claims: TokenClaims, body: unknown) => api.post(`/v1/verifications/${caseId}/decision`, claims, body),
    resubmit: (caseId: string, claims: TokenClaims, body: unknown) =>
      api.post(`/v1/verifications/${caseId}/resubmission`, claims, body),

    /** Starts a case through HTTP (as ops unless told) and waits until its SLA deadline is set. */
    async openCase(merchantId: string, body: unknown = individualRequest(merchantId), by: TokenClaims = staff.ops): Promise<string> {
      const started = await api.start(by, body);
      if (started.status !== 202) throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body)}`);
      const caseId = started.body.caseId as string;
      await eventually(() => api.view(caseId, staff.admin), (r) => r.status === 200 && r.body.deadline !== null);
      return caseId;
    },

    /** A case waiting for the merchant to resubmit. */
    async caseAwaitingResubmission(merchantId: string): Promise<string> {
      const caseId = await api.openCase(merchantId);
      const asked = await api.decide(caseId, staff.reviewer, { decision: 'request_info', reasons: ['ID photo is blurred'] });
      if (asked.status !== 200) throw new Error(`request_info failed: ${asked.status} ${JSON.stringify(asked.body)}`);
      return caseId;
    },

    async workflowExists(merchantId: string): Promise<boolean> {
      try {
        await stack.env.client.workflow.getHandle(verificationWorkflowId(merchantId)).describe();
        return true;
      } catch (err) {
        // The time-skipping server does not implement workflow listing; describe is the check.
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },

    async runningWorkflowsOf(merchantId: string): Promise<number> {
      if (!(await api.workflowExists(merchantId))) return 0;
      const described = await stack.env.client.workflow.getHandle(verificationWorkflowId(merchantId)).describe();
      return described.status.name === 'RUNNING' ? 1 : 0;
    },

    /** Nothing of a refused start may remain: no workflow, no case, no merchant row. */
    async expectNothingStartedFor(merchantId: string): Promise<void> {
      expect(await api.workflowExists(merchantId)).toBe(false);
      expect(await stack.db('verification_cases').where({ merchant_id: merchantId })).toHaveLength(0);
      expect(await stack.db('merchants').where({ id: merchantId })).toHaveLength(0);
    },

    /** The outcome row of one request (after its `attempted` row); written as the answer ends, so polled. */
    async auditRowOf(requestId: string): Promise<AuditRow> {
      const rows = await eventually(
        () => stack.db<AuditRow>('audit_log').where({ request_id: requestId }).orderBy('id'),
        (found) => found.some((r) => r.status_code !== null),
        5_000,
      );
      expect(rows.map((r) => r.outcome)).toEqual(['attempted', expect.stringMatching(/^(succeeded|refused|failed)$/)]);
      return rows[1]!;
    },
  };
  return api;
}

export type Api = ReturnType<typeof apiFor>;

/**
 * An error answer is an RFC 9457 problem document: its content type, the standard members
 * (type /problems/<code>, title, status, detail, instance = the request id), and `extra`.
 */
export function expectProblem(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, status: number, code: string, extra: Record<string, unknown> = {}): void {
  expect({ status: res.status, contentType: res.headers['content-type'] }).toEqual({ status, contentType: expect.stringMatching(/^application\/problem\+json/) });
  expect(res.body).toEqual({
    type: `/problems/${code}`,
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance: res.headers['x-request-id'],
    code,
    ...extra,
  });
  if (status === 503) expect(res.headers['retry-after']).toMatch(/^\d+$/);
}
