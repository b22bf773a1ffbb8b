import { Router } from 'express';
import { attentionBody, attentionOutcome } from '../attention';
import { idempotencyHeaders } from '../idempotency';
import { requireRole } from '../auth';
import { listRoute } from '../list-route';
import { describeRoute, errorResponses, json, problemContent, updateResponses } from '../openapi';
import { exampleProblem } from '../problems';
import { readRoute } from '../read-route';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import {
  cancelWindowBody,
  changeWindowBody,
  createWindowBody,
  linkWindowDetail,
  linkWindowView,
  listLinkBody,
  partnerLinkListQuery,
  partnerLinkView,
  windowIdParams,
  windowListQuery,
} from './schemas';
import { createLinkWindowService, type LinkWindowService } from './service';

export type LinkWindowRouterDeps = RouterDeps<LinkWindowService>;

/** Link windows (docs/rules.md §5.2): ops keep the dated windows; merchants list outside links inside them. */
export function createLinkWindowRouter({ service, registry, limitMutations, idempotent }: LinkWindowRouterDeps): Router {
  const router = Router();
  const { 404: missing, 409: clash } = errorResponses;
  const windowRefused = {
    description: 'link_window_refused: the dates break a rule (reason: closes_before_opens, invalid_phase, overlaps with windowId, opening_in_past, closing_in_past, already_closed)',
    ...problemContent(exampleProblem('link_window_refused', 'overlaps window lw_0123456789abcdef01234567 (2022-10-28 to 2022-11-30)', { reason: 'overlaps', windowId: 'lw_0123456789abcdef01234567' })),
  };

  router.param('windowId', (_req, res, next, windowId: string) => {
    if (windowIdParams.safeParse({ windowId }).success) res.locals.audit = { ...res.locals.audit, target: `link-window:${windowId}` };
    next();
  });

  listRoute(router, registry, {
    path: '/v1/link-windows',
    summary: 'Link windows, the newest first, with their current dates and status (ops, admin)',
    roles: ['ops', 'admin'],
    query: windowListQuery,
    item: linkWindowView,
    list: (query) => service.list(query),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/link-windows',
    summary: 'Add a dated window for a partner and link kind, with its source; its process puts the links live at the opening and takes them down at the end (ops, admin)',
    request: { headers: idempotencyHeaders, body: { required: true, ...json(createWindowBody) } },
    responses: { 201: { description: 'recorded, its process started', ...json(linkWindowDetail) }, 409: { ...clash, description: 'idempotency_key_reused or idempotency_key_in_progress: an Idempotency-Key conflict' }, 422: windowRefused },
  });
  router.post('/link-windows', requireRole('ops', 'admin'), limitMutations, idempotent, async (req, res) => {
    const body = parse(createWindowBody, req.body, 'link window');
    res.locals.audit = { action: 'link_window.create', target: `link-windows:${body.partner}:${body.linkKind}` };
    const created = await service.create(body, req.principal!);
    res.locals.audit = { action: 'link_window.create', target: `link-window:${created.windowId}` };
    res.status(201).location(`/v1/link-windows/${created.windowId}`).json(created);
  });

  readRoute(router, registry, {
    path: '/v1/link-windows/{windowId}',
    summary: 'A window with its versions, progress (done / failed / remaining) and the links the platform refused (ops, admin)',
    roles: ['ops', 'admin'],
    params: { schema: windowIdParams, name: 'link window id' },
    response: { description: 'the window', schema: linkWindowDetail },
    read: ({ windowId }) => service.view(windowId),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/link-windows/{windowId}/versions',
    summary: 'Change the dates: a new version with its source; the process re-plans its opening, or its end while open (ops, admin)',
    request: { params: windowIdParams, body: { required: true, ...json(changeWindowBody) } },
    responses: { 200: { description: 'the new version in force', ...json(linkWindowDetail) }, 409: clash, ...updateResponses, 422: windowRefused },
  });
  router.post('/link-windows/:windowId/versions', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { windowId } = parse(windowIdParams, req.params, 'link window id');
    const body = parse(changeWindowBody, req.body, 'link window version');
    res.locals.audit = { action: 'link_window.change', target: `link-window:${windowId}` };
    res.json(await service.change(windowId, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/link-windows/{windowId}/cancel',
    summary: 'Cancel a window: before its opening nothing goes live; while open it closes now and its links come down (ops, admin)',
    request: { params: windowIdParams, body: { required: false, ...json(cancelWindowBody) } },
    responses: { 200: { description: 'cancelled, or closing', ...json(linkWindowDetail) }, 409: clash, ...updateResponses },
  });
  router.post('/link-windows/:windowId/cancel', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { windowId } = parse(windowIdParams, req.params, 'link window id');
    const body = parse(cancelWindowBody, req.body ?? {}, 'cancellation');
    res.locals.audit = { action: 'link_window.cancel', target: `link-window:${windowId}`, ...(body.reason ? { details: { reason: body.reason } } : {}) };
    res.json(await service.cancel(windowId, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/link-windows/{windowId}/attention',
    summary: 'Answer a window in needs_attention: retry the step whose data the database refused, once the data is fixed (ops, admin); it cannot be abandoned, as its links would stay live',
    request: { params: windowIdParams, body: { required: true, ...json(attentionBody) } },
    responses: { 200: { description: 'answered', ...json(attentionOutcome) }, 409: clash, ...updateResponses },
  });
  router.post('/link-windows/:windowId/attention', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { windowId } = parse(windowIdParams, req.params, 'link window id');
    const body = parse(attentionBody, req.body, 'answer');
    res.locals.audit = { action: `link_window.attention_${body.action}`, target: `link-window:${windowId}` };
    res.json(await service.resolveAttention(windowId, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/partner-links',
    summary: "List a product's outside link for one of the merchant's bound stores; it goes live with the open window's next pass (merchant for its own bindings, admin)",
    request: { headers: idempotencyHeaders, body: { required: true, ...json(listLinkBody) } },
    responses: {
      201: { description: 'listed', ...json(partnerLinkView) },
      404: { ...missing, description: 'no such binding (or another merchant\'s)' },
      409: {
        description: 'link_window_closed: no window is open for the partner and kind now; allowingWindow names the one that would allow it, or is null. conflict: the binding is not bound, or the product already has a current link; idempotency_key_reused / idempotency_key_in_progress: an Idempotency-Key conflict',
        ...problemContent(
          exampleProblem('link_window_closed', 'no link window is open for jd self_operated links now; the nearest window that allows them is lw_0123456789abcdef01234567, from 2022-10-28', {
            partner: 'jd',
            linkKind: 'self_operated',
            allowingWindow: { windowId: 'lw_0123456789abcdef01234567', opensOn: '2022-10-28', closesOn: '2022-11-30', phases: [] },
          }),
        ),
      },
    },
  });
  router.post('/partner-links', requireRole('merchant', 'admin'), limitMutations, idempotent, async (req, res) => {
    const body = parse(listLinkBody, req.body, 'partner link');
    res.locals.audit = { action: 'partner_link.list', target: `store-binding:${body.bindingId}` };
    const listed = await service.listLink(body, req.principal!);
    res.locals.audit = { action: 'partner_link.list', target: `partner-link:${listed.linkId}`, details: { bindingId: body.bindingId, windowId: listed.windowId } };
    res.status(201).json(listed);
  });

  listRoute(router, registry, {
    path: '/v1/partner-links',
    summary: 'Outside links, the newest first, with where each stands on the platform (merchant for its own; ops, admin)',
    roles: ['merchant', 'ops', 'admin'],
    query: partnerLinkListQuery,
    item: partnerLinkView,
    list: (query, principal) => service.listLinks(query, principal),
  });

  return router;
}

/** Link windows and partner links, as the process registry mounts them. */
export const linkWindowRoutes: RouteFactory = ({ config, db, temporal, openapi, limitMutations, idempotent }) =>
  createLinkWindowRouter({
    service: createLinkWindowService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
    registry: openapi,
    limitMutations,
    idempotent,
  });
