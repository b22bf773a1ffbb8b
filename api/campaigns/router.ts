import { Router } from 'express';
import { requireRole } from '../auth';
import { idempotencyHeaders } from '../idempotency';
import { listRoute } from '../list-route';
import { describeRoute, errorResponses, json, updateResponses } from '../openapi';
import { readRoute } from '../read-route';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import { campaignCommandBody, campaignIdParams, campaignListQuery, campaignView, createCampaignBody, itemListQuery, pageOfItems } from './schemas';
import { createCampaignService, type CampaignService } from './service';

/** Who may start and see campaigns; app.ts parses a campaign's large body for them only. */
export const CAMPAIGN_ROLES = ['ops', 'admin'] as const;
const OPS = CAMPAIGN_ROLES;

/** Campaigns (docs/rules.md §5.5): bulk closes, delists and warnings, paced, with a result per item. Ops and admin only. */
export function createCampaignRouter({ service, registry, limitMutations, idempotent }: RouterDeps<CampaignService>): Router {
  const router = Router();
  const { 404: missing, 409: clash } = errorResponses;

  router.param('campaignId', (_req, res, next, campaignId: string) => {
    if (campaignIdParams.safeParse({ campaignId }).success) res.locals.audit = { ...res.locals.audit, target: `campaign:${campaignId}` };
    next();
  });

  listRoute(router, registry, {
    path: '/v1/campaigns',
    summary: 'Campaigns, the newest first, with their progress (ops, admin)',
    roles: [...OPS],
    query: campaignListQuery,
    item: campaignView,
    list: (query) => service.list(query),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/campaigns',
    summary: 'Start a campaign over a list: close these shops, delist these products or warn these streamers, at most ratePerMinute platform calls in any minute (ops, admin)',
    request: { headers: idempotencyHeaders, body: { required: true, ...json(createCampaignBody) } },
    responses: { 201: { description: 'recorded, its process started', ...json(campaignView) }, 409: { ...clash, description: 'idempotency_key_reused or idempotency_key_in_progress: an Idempotency-Key conflict' } },
  });
  router.post('/campaigns', requireRole(...OPS), limitMutations, idempotent, async (req, res) => {
    const body = parse(createCampaignBody, req.body, 'campaign');
    res.locals.audit = { action: 'campaign.create', target: `campaigns:${body.kind}`, details: { reason: body.reason, items: body.items.length, ratePerMinute: body.ratePerMinute } };
    const created = await service.create(body, req.principal!);
    res.locals.audit = { action: 'campaign.create', target: `campaign:${created.campaignId}`, details: { kind: body.kind, reason: body.reason, items: body.items.length, ratePerMinute: body.ratePerMinute } };
    res.status(201).location(`/v1/campaigns/${created.campaignId}`).json(created);
  });

  readRoute(router, registry, {
    path: '/v1/campaigns/{campaignId}',
    summary: 'A campaign with its progress (done, refused, failed, pending) and, once ended, its summary (ops, admin)',
    roles: [...OPS],
    params: { schema: campaignIdParams, name: 'campaign id' },
    response: { description: 'the campaign', schema: campaignView },
    read: ({ campaignId }) => service.view(campaignId),
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/campaigns/{campaignId}/items',
    summary: "A campaign's items in list order with each one's result: what the platform answered, or why it refused or failed; filter by state (ops, admin)",
    request: { params: campaignIdParams, query: itemListQuery },
    responses: { 200: { description: 'one page', ...json(pageOfItems) }, 404: missing },
  });
  router.get('/campaigns/:campaignId/items', requireRole(...OPS), async (req, res) => {
    const { campaignId } = parse(campaignIdParams, req.params, 'campaign id');
    res.json(await service.items(campaignId, parse(itemListQuery, req.query, 'query')));
  });

  const commands = [
    ['pause', 'Pause before the next page; the page under way finishes (ops, admin)'],
    ['resume', 'Resume a paused campaign, at its pace (ops, admin)'],
    ['cancel', 'Cancel before the next page; the summary counts what was never tried (ops, admin)'],
  ] as const;
  for (const [which, summary] of commands) {
    describeRoute(registry, {
      method: 'post',
      path: `/v1/campaigns/{campaignId}/${which}`,
      summary,
      request: { params: campaignIdParams, body: { required: false, ...json(campaignCommandBody) } },
      responses: { 200: { description: 'taken', ...json(campaignView) }, 404: missing, 409: { ...clash, description: 'the campaign has ended, or is not in a state this applies to' }, ...updateResponses },
    });
    router.post(`/campaigns/:campaignId/${which}`, requireRole(...OPS), limitMutations, async (req, res) => {
      const { campaignId } = parse(campaignIdParams, req.params, 'campaign id');
      const body = parse(campaignCommandBody, req.body ?? {}, which);
      res.locals.audit = { action: `campaign.${which}`, target: `campaign:${campaignId}`, ...(body.reason ? { details: { reason: body.reason } } : {}) };
      res.json(await service[which](campaignId, body, req.principal!));
    });
  }

  return router;
}

/** The campaign routes, as the process registry mounts them. */
export const campaignRoutes: RouteFactory = ({ config, db, temporal, openapi, limitMutations, idempotent }) =>
  createCampaignRouter({
    service: createCampaignService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
    registry: openapi,
    limitMutations,
    idempotent,
  });
