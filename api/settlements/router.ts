import { Router, type RequestHandler } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { requireRole } from '../auth';
import { describeRoute, errorResponses, json } from '../openapi';
import { parse } from '../validate';
import type { SettlementService } from './service';
import { merchantParams, periodNotEndedBody, periodParams, runSettlementBody, settlementProgress, settlementStarted, statementSchema } from './schemas';

export interface SettlementRouterDeps {
  service: SettlementService;
  registry: OpenAPIRegistry;
  limitMutations: RequestHandler;
}

/** Monthly commission settlement (docs/rules.md §3). */
export function createSettlementRouter({ service, registry, limitMutations }: SettlementRouterDeps): Router {
  const router = Router();
  const { 400: bad, 401: unauth, 403: denied, 404: missing, 429: limited } = errorResponses;

  describeRoute(registry, {
    method: 'post',
    path: '/v1/settlements',
    summary:
      'Run or re-run the settlement of an ended period (finance, admin); a settled period changes nothing. ' +
      '409 period_not_ended for the current or a later month, with earliestRunDate (the 1st of the next month, Asia/Shanghai)',
    request: { body: { required: true, ...json(runSettlementBody) } },
    responses: {
      202: { description: 'started, or already running', ...json(settlementStarted) },
      400: bad,
      401: unauth,
      403: denied,
      409: { description: 'the period has not ended: period_not_ended, with earliestRunDate and timeZone', ...json(periodNotEndedBody) },
      429: limited,
    },
  });
  router.post('/settlements', requireRole('finance', 'admin'), limitMutations, async (req, res) => {
    const { period } = parse(runSettlementBody, req.body, 'settlement request');
    res.locals.audit = { action: 'settlement.run', target: `settlement:${period}` };
    res.status(202).json(await service.run(period));
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/settlements/{period}',
    summary: 'Progress of a period: merchants done / total, totals, failures (finance, ops, admin)',
    request: { params: periodParams },
    responses: { 200: { description: 'progress', ...json(settlementProgress) }, 401: unauth, 403: denied, 404: missing },
  });
  router.get('/settlements/:period', requireRole('finance', 'ops', 'admin'), async (req, res) => {
    const { period } = parse(periodParams, req.params, 'period');
    res.json(await service.progress(period));
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/merchants/{merchantId}/statements',
    summary: "A merchant's statements, newest first (merchant for itself, finance, ops, admin)",
    request: { params: merchantParams },
    responses: {
      200: { description: 'statements', ...json(z.object({ merchantId: z.string(), statements: z.array(statementSchema) })) },
      401: unauth,
      403: denied,
    },
  });
  router.get('/merchants/:merchantId/statements', requireRole('merchant', 'finance', 'ops', 'admin'), async (req, res) => {
    const { merchantId } = parse(merchantParams, req.params, 'merchant id');
    res.json(await service.statementsOf(merchantId, req.principal!));
  });

  return router;
}
