import { Router } from 'express';
import { attentionBody, attentionOutcome } from '../attention';
import { requireRole } from '../auth';
import { idempotencyHeaders } from '../idempotency';
import { describeRoute, errorResponses, json, problemContent, updateResponses } from '../openapi';
import { pageOf } from '../pagination';
import { exampleProblem } from '../problems';
import { readRoute } from '../read-route';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import { actionParams, actionView, decisionBody, openActionBody, refundListQuery, refundView } from './schemas';
import { createEnforcementService, type EnforcementService } from './service';

export type EnforcementRouterDeps = RouterDeps<EnforcementService>;

const STEPS = [
  { step: 'approve', summary: 'Approve an action another person opened: withdrawals are restricted at once, then every consumer order of the shop is refunded (ops, admin; not the maker)' },
  { step: 'reject', summary: 'Reject an action another person opened: nothing is restricted or refunded (ops, admin; not the maker)' },
  { step: 'pause', summary: 'Pause the refunds after the pages in flight (ops, admin)' },
  { step: 'resume', summary: 'Resume paused refunds where they stopped (ops, admin)' },
] as const;

/** Enforcement actions (docs/rules.md §5.5): maker/checker, restriction, mass refund with progress. */
export function createEnforcementRouter({ service, registry, limitMutations, idempotent }: EnforcementRouterDeps): Router {
  const router = Router();
  const { 404: missing, 409: clash } = errorResponses;

  router.param('actionId', (_req, res, next, actionId: string) => {
    if (actionParams.safeParse({ actionId }).success) res.locals.audit = { ...res.locals.audit, target: `enforcement:${actionId}` };
    next();
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/enforcement-actions',
    summary: 'Open an enforcement action on a shop with its evidence; it waits for another person to approve it (ops, admin)',
    request: { headers: idempotencyHeaders, body: { required: true, ...json(openActionBody) } },
    responses: {
      201: { description: 'opened, awaiting approval', ...json(actionView) },
      404: { ...missing, description: 'no such shop' },
      409: {
        description: 'the shop already has a live action (awaiting approval, refunding, paused or waiting for ops): its workflowId is in the body',
        ...problemContent(exampleProblem('conflict', 'enforcement:enf_0123456789abcdef01234567 is already running', { workflowId: 'enforcement:enf_0123456789abcdef01234567' })),
      },
    },
  });
  router.post('/enforcement-actions', requireRole('ops', 'admin'), limitMutations, idempotent, async (req, res) => {
    const body = parse(openActionBody, req.body, 'enforcement action');
    res.locals.audit = { action: 'enforcement.open', target: `shop:${body.shopId}`, details: { reason: body.reason } };
    const opened = await service.open(body, req.principal!);
    res.locals.audit = { action: 'enforcement.open', target: `enforcement:${opened.actionId}`, details: { shopId: body.shopId, reason: body.reason } };
    res.status(201).location(`/v1/enforcement-actions/${opened.actionId}`).json(opened);
  });

  readRoute(router, registry, {
    path: '/v1/enforcement-actions/{actionId}',
    summary: 'An action with its state and progress: done (refunded), failed (refused by the platform), remaining (ops, admin)',
    roles: ['ops', 'admin'],
    params: { schema: actionParams, name: 'enforcement action id' },
    response: { description: 'the action', schema: actionView },
    read: ({ actionId }) => service.view(actionId),
  });

  for (const { step, summary } of STEPS) {
    describeRoute(registry, {
      method: 'post',
      path: `/v1/enforcement-actions/{actionId}/${step}`,
      summary,
      request: { params: actionParams, body: { required: false, ...json(decisionBody) } },
      responses: {
        200: { description: 'done', ...json(actionView) },
        ...(step === 'approve' || step === 'reject'
          ? { 403: { description: 'the maker may not check their own action', ...problemContent(exampleProblem('forbidden', 'olga opened this action: another person must approve or reject it (maker ≠ checker)')) } }
          : {}),
        409: clash,
        ...updateResponses,
      },
    });
    router.post(`/enforcement-actions/:actionId/${step}`, requireRole('ops', 'admin'), limitMutations, async (req, res) => {
      const { actionId } = parse(actionParams, req.params, 'enforcement action id');
      const body = parse(decisionBody, req.body ?? {}, step);
      res.locals.audit = { action: `enforcement.${step}`, target: `enforcement:${actionId}`, ...(body.note ? { details: { note: body.note } } : {}) };
      res.json(await service.step(actionId, step, req.principal!));
    });
  }

  describeRoute(registry, {
    method: 'post',
    path: '/v1/enforcement-actions/{actionId}/attention',
    summary: 'Answer an action in needs_attention (the platform refused a step for good): retry runs the step again; abandon is refused, the refunds must be made (ops, admin)',
    request: { params: actionParams, body: { required: true, ...json(attentionBody) } },
    responses: { 200: { description: 'answered', ...json(attentionOutcome) }, 409: clash, ...updateResponses },
  });
  router.post('/enforcement-actions/:actionId/attention', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { actionId } = parse(actionParams, req.params, 'enforcement action id');
    const body = parse(attentionBody, req.body, 'answer');
    res.locals.audit = { action: `enforcement.attention_${body.action}`, target: `enforcement:${actionId}`, ...(body.note ? { details: { note: body.note } } : {}) };
    res.json(await service.resolveAttention(actionId, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/enforcement-actions/{actionId}/refunds',
    summary: "The orders an action answered for, by order id, each with the platform's refund or its reason for refusing; state=refused lists what ops must look at (ops, admin)",
    request: { params: actionParams, query: refundListQuery },
    responses: { 200: { description: 'one page; nextCursor continues it', ...json(pageOf(refundView)) } },
  });
  router.get('/enforcement-actions/:actionId/refunds', requireRole('ops', 'admin'), async (req, res) => {
    const { actionId } = parse(actionParams, req.params, 'enforcement action id');
    res.json(await service.refunds(actionId, parse(refundListQuery, req.query, 'query')));
  });

  return router;
}

/** Enforcement actions, as the process registry mounts them. */
export const enforcementRoutes: RouteFactory = ({ config, db, temporal, openapi, limitMutations, idempotent }) =>
  createEnforcementRouter({
    service: createEnforcementService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
    registry: openapi,
    limitMutations,
    idempotent,
  });
