import { Router } from 'express';
import { attentionBody, attentionOutcome } from '../attention';
import { requireRole } from '../auth';
import { describeRoute, errorResponses, json, updateResponses } from '../openapi';
import { listRoute } from '../list-route';
import { readRoute } from '../read-route';
import { parse } from '../validate';
import { IDEMPOTENCY_KEY_HEADER, referenceOf } from './reference';
import type { ViolationService } from './service';
import { violationListItem, violationListQuery } from './list';
import {
  appealBody,
  appealDecisionBody,
  caseIdParams,
  merchantParams,
  merchantViolations,
  openViolationBody,
  openViolationHeaders,
  violationCase,
  violationOpened,
} from './schemas';
import type { RouteFactory, RouterDeps } from '../routes';
import { idempotencyHeaders } from '../idempotency';
import { createViolationService } from './service';
import { riskRoutes } from '../risks/router';

export type ViolationRouterDeps = RouterDeps<ViolationService>;

/** Violations: penalties, appeals, escalation and expiry (docs/rules.md §4). */
export function createViolationRouter({ service, registry, limitMutations, idempotent }: ViolationRouterDeps): Router {
  const router = Router();
  const { 404: missing, 409: clash } = errorResponses;

  // Runs before the role check, so a refused attempt on a case is audited under that case too.
  // Only a well-formed id is copied: anything else could make the audit insert itself fail.
  router.param('caseId', (_req, res, next, caseId: string) => {
    if (caseIdParams.safeParse({ caseId }).success) res.locals.audit = { ...res.locals.audit, target: `violation:${caseId}` };
    next();
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/violations',
    summary:
      "Open a violation case on a merchant's shop under a business reference (body `reference` or Idempotency-Key header); its process decides the level and applies the penalty (ops, admin)",
    request: { headers: openViolationHeaders, body: { required: true, ...json(openViolationBody) } },
    responses: {
      200: { description: 'the same request under the same reference again: the case it opened (replayed)', ...json(violationOpened) },
      201: { description: 'case recorded, its process started', ...json(violationOpened) },
      404: { ...missing, description: 'no such shop' },
      409: { ...clash, description: 'the shop belongs to another merchant, or is closed; or the reference opened a case with a different request' },
    },
  });
  router.post('/violations', requireRole('ops', 'admin'), limitMutations, idempotent, async (req, res) => {
    const body = parse(openViolationBody, req.body, 'violation');
    res.locals.audit = { action: 'violation.open', target: `shop:${body.shopId}` };
    const reference = referenceOf(body, req.get(IDEMPOTENCY_KEY_HEADER));
    const opened = await service.open(body, reference, req.principal!);
    res.locals.audit = { action: 'violation.open', target: `violation:${opened.caseId}` };
    res.status(opened.replayed ? 200 : 201).location(`/v1/violations/${opened.caseId}`).json(opened);
  });

  listRoute(router, registry, {
    path: '/v1/violations',
    summary:
      'Violation cases, the newest first; filters status (as shown: needs_attention while a step waits for ops), level, type, shopId, merchantId, appealPending (ops, reviewer, finance, admin; merchant for its own)',
    roles: ['merchant', 'ops', 'reviewer', 'finance', 'admin'],
    query: violationListQuery,
    item: violationListItem,
    list: (query, principal) => service.list(query, principal),
  });

  readRoute(router, registry, {
    path: '/v1/violations/{caseId}',
    summary: 'Level, penalty, deadlines, appeal and history of a case (ops, reviewer, finance, admin; merchant for its own)',
    roles: ['merchant', 'ops', 'reviewer', 'finance', 'admin'],
    params: { schema: caseIdParams, name: 'case id' },
    response: { description: 'the case', schema: violationCase },
    read: ({ caseId }, principal) => service.view(caseId, principal),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/violations/{caseId}/appeal',
    summary: 'Appeal within the window (merchant for its own case, admin); a late or repeated appeal is a 409 naming the deadline',
    request: { params: caseIdParams, body: { required: true, ...json(appealBody) } },
    responses: { 200: { description: 'appeal filed', ...json(violationCase) }, 409: clash, ...updateResponses },
  });
  router.post('/violations/:caseId/appeal', requireRole('merchant', 'admin'), limitMutations, async (req, res) => {
    const { caseId } = parse(caseIdParams, req.params, 'case id');
    const body = parse(appealBody, req.body, 'appeal');
    res.locals.audit = { action: 'violation.appeal', target: `violation:${caseId}` };
    res.json(await service.appeal(caseId, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/violations/{caseId}/appeal-decision',
    summary: 'Uphold (the penalty is reversed) or reject (with reasons) a pending appeal (reviewer, admin; never the one who opened the case)',
    request: { params: caseIdParams, headers: idempotencyHeaders, body: { required: true, ...json(appealDecisionBody) } },
    responses: { 200: { description: 'decision applied', ...json(violationCase) }, 409: clash, ...updateResponses },
  });
  router.post('/violations/:caseId/appeal-decision', requireRole('reviewer', 'admin'), limitMutations, idempotent, async (req, res) => {
    const { caseId } = parse(caseIdParams, req.params, 'case id');
    const body = parse(appealDecisionBody, req.body, 'appeal decision');
    res.locals.audit = { action: `violation.appeal_${body.decision}`, target: `violation:${caseId}` };
    res.json(await service.decideAppeal(caseId, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/violations/{caseId}/attention',
    summary: 'Answer a case in needs_attention: retry the failed step, or abandon it (an appeal or its decision is dropped) (ops, admin)',
    request: { params: caseIdParams, body: { required: true, ...json(attentionBody) } },
    responses: { 200: { description: 'answered', ...json(attentionOutcome) }, 409: clash, ...updateResponses },
  });
  router.post('/violations/:caseId/attention', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { caseId } = parse(caseIdParams, req.params, 'case id');
    const body = parse(attentionBody, req.body, 'answer');
    res.locals.audit = { action: `violation.attention_${body.action}`, target: `violation:${caseId}` };
    res.json(await service.resolveAttention(caseId, body, req.principal!));
  });

  readRoute(router, registry, {
    path: '/v1/merchants/{merchantId}/violations',
    summary: "A merchant's violation cases, newest first (ops, reviewer, finance, admin; merchant for itself)",
    roles: ['merchant', 'ops', 'reviewer', 'finance', 'admin'],
    params: { schema: merchantParams, name: 'merchant id' },
    response: { description: 'the cases', schema: merchantViolations },
    read: ({ merchantId }, principal) => service.listOf(merchantId, principal),
  });

  return router;
}

/**
 * Violation cases, appeals and decisions, as the process registry mounts them, with the risk
 * findings that open cases by themselves and the banned-word list they are scanned with.
 */
export const violationRoutes: RouteFactory = (context) => {
  const { config, db, temporal, openapi, limitMutations, idempotent } = context;
  const router = Router();
  router.use(
    createViolationRouter({
      service: createViolationService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
      registry: openapi,
      limitMutations,
      idempotent,
    }),
  );
  router.use(riskRoutes(context));
  return router;
};
