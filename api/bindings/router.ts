import { Router } from 'express';
import { createAuditLog } from '../../db/repositories/audit-log';
import { attentionBody, attentionOutcome } from '../attention';
import { requireRole } from '../auth';
import { describeRoute, errorResponses, json, problemContent, updateResponses } from '../openapi';
import { exampleProblem } from '../problems';
import { listRoute } from '../list-route';
import { readRoute } from '../read-route';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import { outcomeOf } from '../audit';
import { bindingIdParams, bindingListQuery, bindingStarted, bindingView, emptyBody, oauthCallbackQuery, startBindingBody, unbindBody } from './schemas';
import { createBindingService, type BindingService } from './service';
import type { Db } from '../../db/connection';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

export type BindingRouterDeps = RouterDeps<BindingService>;

const refusedExample = {
  description: 'a named binding refusal (`refusal`; `fields` names what differs, never a value)',
  ...problemContent(
    exampleProblem('binding_refused', "the store's real-name entity differs from the merchant's verified entity: bind a store held by the same entity (differs: name)", { refusal: 'entity_mismatch', fields: ['name'] }),
  ),
};

/** Store bindings: Taobao / Tmall, Youzan, JD, Pinduoduo stores bound to the merchant's shop (docs/rules.md §5.1). */
export function createBindingRouter({ service, registry, limitMutations }: BindingRouterDeps): Router {
  const router = Router();
  const { 409: clash } = errorResponses;
  const mutationResponses = { 409: clash, ...updateResponses, 422: refusedExample };

  router.param('bindingId', (_req, res, next, bindingId: string) => {
    if (bindingIdParams.safeParse({ bindingId }).success) res.locals.audit = { ...res.locals.audit, target: `binding:${bindingId}` };
    next();
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/bindings',
    summary: "Start binding a partner store to the merchant's shop: the merchant must be verified and the store held by the same entity; a malformed PID or union id is a 422 before anything is saved (merchant for its own shop; ops, admin name the merchant)",
    request: { body: { required: true, ...json(startBindingBody) } },
    responses: { 201: { description: 'recorded, its process waits for the authorisation (Youzan: follow authorizeUrl)', ...json(bindingStarted) }, 409: clash, 422: refusedExample },
  });
  router.post('/bindings', requireRole('merchant', 'ops', 'admin'), limitMutations, async (req, res) => {
    const body = parse(startBindingBody, req.body, 'binding');
    res.locals.audit = { action: 'binding.start', target: `store:${body.platform}:${body.storeId}` };
    const started = await service.start(body, req.principal!);
    res.locals.audit = { action: 'binding.start', target: `binding:${started.bindingId}` };
    res.status(201).location(`/v1/bindings/${started.bindingId}`).json(started);
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/bindings/{bindingId}/union-authorisation',
    summary: "Taobao / Tmall, JD, Pinduoduo: the merchant authorised the position on the union's side; the process checks it (main account, Taobao-ke open, content-scene position) and binds, or names what to fix (merchant, admin)",
    request: { params: bindingIdParams, body: { required: false, ...json(emptyBody) } },
    responses: { 200: { description: 'bound', ...json(bindingView) }, ...mutationResponses },
  });
  router.post('/bindings/:bindingId/union-authorisation', requireRole('merchant', 'admin'), limitMutations, async (req, res) => {
    const { bindingId } = parse(bindingIdParams, req.params, 'binding id');
    parse(emptyBody, req.body ?? {}, 'body');
    res.locals.audit = { action: 'binding.union_authorisation', target: `binding:${bindingId}` };
    res.json(await service.completeUnionAuthorisation(bindingId, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/bindings/{bindingId}/reauthorisation',
    summary: 'Youzan: a new consent link for a binding that needs authorising again (merchant, admin)',
    request: { params: bindingIdParams, body: { required: false, ...json(emptyBody) } },
    responses: { 200: { description: 'follow authorizeUrl', ...json(bindingStarted) }, 409: clash },
  });
  router.post('/bindings/:bindingId/reauthorisation', requireRole('merchant', 'admin'), limitMutations, async (req, res) => {
    const { bindingId } = parse(bindingIdParams, req.params, 'binding id');
    parse(emptyBody, req.body ?? {}, 'body');
    res.locals.audit = { action: 'binding.reauthorisation', target: `binding:${bindingId}` };
    res.json(await service.reauthorise(bindingId, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/bindings/{bindingId}/unbind',
    summary: "Unbind the store: sync stops, the tokens are retired, the process ends (merchant for its own, ops, admin)",
    request: { params: bindingIdParams, body: { required: true, ...json(unbindBody) } },
    responses: { 200: { description: 'unbound', ...json(bindingView) }, ...mutationResponses },
  });
  router.post('/bindings/:bindingId/unbind', requireRole('merchant', 'ops', 'admin'), limitMutations, async (req, res) => {
    const { bindingId } = parse(bindingIdParams, req.params, 'binding id');
    const { reason } = parse(unbindBody, req.body, 'unbinding');
    res.locals.audit = { action: 'binding.unbind', target: `binding:${bindingId}` };
    res.json(await service.unbind(bindingId, reason, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/bindings/{bindingId}/attention',
    summary: "Answer a binding in needs_attention: retry taking its links down once the platform accepts it (ops, admin); it cannot be abandoned, as the links would stay live",
    request: { params: bindingIdParams, body: { required: true, ...json(attentionBody) } },
    responses: { 200: { description: 'answered', ...json(attentionOutcome) }, 409: clash, ...updateResponses },
  });
  router.post('/bindings/:bindingId/attention', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { bindingId } = parse(bindingIdParams, req.params, 'binding id');
    const body = parse(attentionBody, req.body, 'answer');
    res.locals.audit = { action: `binding.attention_${body.action}`, target: `binding:${bindingId}` };
    res.json(await service.resolveAttention(bindingId, body, req.principal!));
  });

  listRoute(router, registry, {
    path: '/v1/bindings',
    summary: "Bound stores by binding id; filters merchantId (staff), status (e.g. needs_reauth), platform (merchant: its own)",
    roles: ['merchant', 'ops', 'reviewer', 'finance', 'admin'],
    query: bindingListQuery,
    item: bindingView,
    list: (query, principal) => service.list(query, principal),
  });

  readRoute(router, registry, {
    path: '/v1/bindings/{bindingId}',
    summary: 'Status, platform, permission level and token expiry of a binding; never a token (merchant for its own, staff)',
    roles: ['merchant', 'ops', 'reviewer', 'finance', 'admin'],
    params: { schema: bindingIdParams, name: 'binding id' },
    response: { description: 'the binding', schema: bindingView },
    read: ({ bindingId }, principal) => service.view(bindingId, principal),
  });

  return router;
}

/**
 * Youzan's redirect back with the authorisation code: a browser with no token of ours, so it is
 * mounted before the JWT check. The `state` proves it (single use, hashed, expiring, bound to
 * one binding); the callback is audited here, as the audit middleware sees only authenticated
 * mutations.
 */
export function createBindingCallbackRouter({ service, registry, db }: { service: BindingService; registry: OpenAPIRegistry; db: Db }): Router {
  const router = Router();
  const audit = createAuditLog(db);
  registry.registerPath({
    method: 'get',
    path: '/v1/bindings/oauth/youzan/callback',
    summary: "Youzan's OAuth redirect (no token: the state proves it); binds the store, or answers 400 for an unknown, used or expired state",
    security: [],
    request: { query: oauthCallbackQuery },
    responses: {
      200: { description: 'bound', ...json(bindingView) },
      202: updateResponses[202],
      400: { description: 'an unknown, used or expired state, or a malformed query', ...problemContent(exampleProblem('invalid_oauth_state', 'the authorisation link is unknown, used or expired: start the authorisation again')) },
      409: errorResponses[409],
      422: refusedExample,
      429: errorResponses[429],
      500: errorResponses[500],
      503: errorResponses[503],
    },
  });
  router.get('/v1/bindings/oauth/youzan/callback', async (req, res, next) => {
    let target: string | undefined;
    try {
      const { code, state } = parse(oauthCallbackQuery, req.query, 'callback');
      // The audit row names the binding as soon as the state is spent, refused or not.
      const bound = await service.oauthCallback(code, state, (bindingId) => {
        target = `binding:${bindingId}`;
      });
      await audit.record({ requestId: String(req.id), actorSub: 'youzan-callback', actorRole: 'none', action: 'binding.oauth_callback', target, statusCode: 200, outcome: 'succeeded', details: { method: 'GET', path: req.path } });
      res.json(bound);
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      await audit
        .record({ requestId: String(req.id), actorSub: 'youzan-callback', actorRole: 'none', action: 'binding.oauth_callback', target, statusCode: status, outcome: outcomeOf(status), details: { method: 'GET', path: req.path } })
        .catch(() => undefined);
      next(err);
    }
  });
  return router;
}

/** Store bindings, as the process registry mounts them. */
export const bindingRoutes: RouteFactory = ({ config, db, temporal, vault, partners, openapi, limitMutations, idempotent }) =>
  createBindingRouter({ service: bindingServiceFor({ config, db, temporal, vault, partners }), registry: openapi, limitMutations, idempotent });

export function bindingServiceFor({ config, db, temporal, vault, partners }: Pick<Parameters<RouteFactory>[0], 'config' | 'db' | 'temporal' | 'vault' | 'partners'>): BindingService {
  return createBindingService({
    db,
    temporal,
    vault,
    partners,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    secretsKey: config.PARTNER_SECRETS_KEY,
    youzanRedirectUri: config.YOUZAN_REDIRECT_URI,
    updateWaitMs: config.API_UPDATE_WAIT_MS,
  });
}
