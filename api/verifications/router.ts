import { Router } from 'express';
import { attentionBody, attentionOutcome } from '../attention';
import { requireRole } from '../auth';
import { describeRoute, errorResponses, json, updateResponses } from '../openapi';
import { listRoute } from '../list-route';
import { readRoute } from '../read-route';
import { parse } from '../validate';
import type { VerificationService } from './service';
import { verificationListItem, verificationListQuery } from './list';
import {
  caseIdParams,
  decisionBody,
  entityChangeBody,
  entityChangeResponse,
  merchantIdParams,
  resubmissionBody,
  startVerificationBody,
  startVerificationResponse,
  verificationCaseResponse,
  verificationStateResponse,
} from './schemas';
import type { RouteFactory, RouterDeps } from '../routes';
import { createVerificationService } from './service';

export type VerificationRouterDeps = RouterDeps<VerificationService>;

/** Entity verification reviews (docs/rules.md §1). */
export function createVerificationRouter({ service, registry, limitMutations }: VerificationRouterDeps): Router {
  const router = Router();
  const { 409: clash } = errorResponses;

  // Runs before the role check, so a refused attempt on a case is audited under that case too.
  router.param('id', (_req, res, next, id: string) => {
    if (caseIdParams.safeParse({ id }).success) res.locals.audit = { ...res.locals.audit, target: id };
    next();
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/verifications',
    summary: 'Start a verification review (roles: merchant for itself, ops, admin)',
    request: { body: { required: true, ...json(startVerificationBody) } },
    responses: { 202: { description: 'review started', ...json(startVerificationResponse) }, 409: clash },
  });
  router.post('/verifications', requireRole('merchant', 'ops', 'admin'), limitMutations, async (req, res) => {
    const body = parse(startVerificationBody, req.body, 'verification request');
    const started = await service.start(body, req.principal!);
    res.locals.audit = { action: 'verification.start', target: started.caseId };
    res.status(202).location(`/v1/verifications/${started.caseId}`).json(started);
  });

  listRoute(router, registry, {
    path: '/v1/verifications',
    summary:
      'The review queue: cases by deadline, the earliest first (no deadline yet: last); filters status, overdue, entityType, kind, merchantId, submittedFrom/submittedTo. No personal data: read a case for that (merchant for itself, ops, reviewer, admin)',
    roles: ['merchant', 'ops', 'reviewer', 'admin'],
    query: verificationListQuery,
    item: verificationListItem,
    list: (query, principal) => service.list(query, principal),
  });

  readRoute(router, registry, {
    path: '/v1/verifications/{id}',
    summary: 'Status, deadline, overdue flag, history and submissions (personal data masked except for reviewer, admin)',
    roles: ['merchant', 'ops', 'reviewer', 'admin'],
    params: { schema: caseIdParams, name: 'case id' },
    response: { description: 'the case', schema: verificationCaseResponse },
    read: ({ id }, principal, req) => service.view(id, principal, String(req.id)),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/verifications/{id}/decision',
    summary: 'Approve, reject (with reasons) or request more information (roles: reviewer, admin)',
    request: { params: caseIdParams, body: { required: true, ...json(decisionBody) } },
    responses: { 200: { description: 'decision applied', ...json(verificationStateResponse) }, 409: clash, ...updateResponses },
  });
  router.post('/verifications/:id/decision', requireRole('reviewer', 'admin'), limitMutations, async (req, res) => {
    const { id } = parse(caseIdParams, req.params, 'case id');
    const body = parse(decisionBody, req.body, 'decision');
    res.locals.audit = { action: `verification.${body.decision}`, target: id };
    res.json(await service.decide(id, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/verifications/{id}/resubmission',
    summary: 'Answer a request for more information (roles: merchant for itself, ops, admin)',
    request: { params: caseIdParams, body: { required: true, ...json(resubmissionBody) } },
    responses: { 200: { description: 'back in review', ...json(verificationStateResponse) }, 409: clash, ...updateResponses },
  });
  router.post('/verifications/:id/resubmission', requireRole('merchant', 'ops', 'admin'), limitMutations, async (req, res) => {
    const { id } = parse(caseIdParams, req.params, 'case id');
    const body = parse(resubmissionBody, req.body, 'resubmission');
    res.locals.audit = { action: 'verification.resubmit', target: id };
    res.json(await service.resubmit(id, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/merchants/{merchantId}/entity-change',
    summary:
      "A verified merchant's change of entity, reviewed like a verification; approval changes the entity, the shop type and the deposit requirement (roles: merchant for itself, ops, admin)",
    request: { params: merchantIdParams, body: { required: true, ...json(entityChangeBody) } },
    responses: { 202: { description: 'review started', ...json(entityChangeResponse) }, 409: clash },
  });
  router.post('/merchants/:merchantId/entity-change', requireRole('merchant', 'ops', 'admin'), limitMutations, async (req, res) => {
    const { merchantId } = parse(merchantIdParams, req.params, 'merchant id');
    res.locals.audit = { action: 'merchant.entity_change', target: merchantId };
    const body = parse(entityChangeBody, req.body, 'entity change');
    const started = await service.requestEntityChange(merchantId, body, req.principal!);
    res.locals.audit = { action: 'merchant.entity_change', target: started.caseId };
    res.status(202).location(`/v1/verifications/${started.caseId}`).json(started);
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/verifications/{id}/attention',
    summary: 'Answer a case in needs_attention: retry the failed step, or abandon it, which closes the case (roles: ops, admin)',
    request: { params: caseIdParams, body: { required: true, ...json(attentionBody) } },
    responses: { 200: { description: 'answered', ...json(attentionOutcome) }, 409: clash, ...updateResponses },
  });
  router.post('/verifications/:id/attention', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { id } = parse(caseIdParams, req.params, 'case id');
    const body = parse(attentionBody, req.body, 'answer');
    res.locals.audit = { action: `verification.attention_${body.action}`, target: id };
    res.json(await service.resolveAttention(id, body, req.principal!));
  });

  return router;
}

/** Verification reviews and changes of entity, as the process registry mounts them. */
export const verificationRoutes: RouteFactory = ({ config, db, temporal, vault, openapi, limitMutations, idempotent }) =>
  createVerificationRouter({
    service: createVerificationService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, vault, updateWaitMs: config.API_UPDATE_WAIT_MS }),
    registry: openapi,
    limitMutations,
    idempotent,
  });
