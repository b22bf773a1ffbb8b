import { Router } from 'express';
import { z } from 'zod';
import { requireRole } from '../auth';
import { describeRoute, json } from '../openapi';
import { listRoute } from '../list-route';
import { readRoute } from '../read-route';
import { parse } from '../validate';
import type { SettlementService } from './service';
import { runListItem, runListQuery, statementListQuery } from './list';
import { exampleProblem, PROBLEM_CONTENT_TYPE } from '../problems';
import { merchantParams, periodNotEndedBody, periodParams, runSettlementBody, settlementProgress, settlementStarted, statementSchema } from './schemas';
import type { RouteFactory, RouterDeps } from '../routes';
import { createSettlementService } from './service';
import { createFeeRateRouter } from '../fee-rates/router';
import { createFeeRateService } from '../fee-rates/service';
import { idempotencyHeaders } from '../idempotency';

export type SettlementRouterDeps = RouterDeps<SettlementService>;

/** Monthly commission settlement (docs/rules.md §3). */
export function createSettlementRouter({ service, registry, limitMutations, idempotent }: SettlementRouterDeps): Router {
  const router = Router();

  describeRoute(registry, {
    method: 'post',
    path: '/v1/settlements',
    summary:
      'Run or re-run the settlement of an ended period (finance, admin); a settled period changes nothing. ' +
      '409 period_not_ended for the current or a later month, with earliestRunDate (the 1st of the next month, Asia/Shanghai)',
    request: { headers: idempotencyHeaders, body: { required: true, ...json(runSettlementBody) } },
    responses: {
      202: { description: 'started, or already running', ...json(settlementStarted) },
      409: {
        description: 'the period has not ended: period_not_ended, with earliestRunDate and timeZone',
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: periodNotEndedBody,
            example: exampleProblem('period_not_ended', 'period 2026-11 has not ended; it can run from 2026-12-01 (Asia/Shanghai)', { earliestRunDate: '2026-12-01', timeZone: 'Asia/Shanghai' }),
          },
        },
      },
    },
  });
  router.post('/settlements', requireRole('finance', 'admin'), limitMutations, idempotent, async (req, res) => {
    const { period } = parse(runSettlementBody, req.body, 'settlement request');
    res.locals.audit = { action: 'settlement.run', target: `settlement:${period}` };
    res.status(202).json(await service.run(period));
  });

  listRoute(router, registry, {
    path: '/v1/settlements',
    summary: 'Settlement runs, the latest period first: status, progress, stored totals, failures (merchants missing a fee rate); filter status (finance, ops, admin)',
    roles: ['finance', 'ops', 'admin'],
    query: runListQuery,
    item: runListItem,
    list: (query) => service.listRuns(query),
  });

  listRoute(router, registry, {
    path: '/v1/statements',
    summary: 'Statements, the latest period first, then by merchant; filters period, merchantId, status, kind (merchant for itself, finance, ops, admin)',
    roles: ['merchant', 'finance', 'ops', 'admin'],
    query: statementListQuery,
    item: statementSchema,
    list: (query, principal) => service.listStatements(query, principal),
  });

  readRoute(router, registry, {
    path: '/v1/settlements/{period}',
    summary: 'Progress of a period: merchants done / total, totals, failures (finance, ops, admin)',
    roles: ['finance', 'ops', 'admin'],
    params: { schema: periodParams, name: 'period' },
    response: { description: 'progress', schema: settlementProgress },
    read: ({ period }) => service.progress(period),
  });

  readRoute(router, registry, {
    path: '/v1/merchants/{merchantId}/statements',
    summary: "A merchant's statements, newest first (merchant for itself, finance, ops, admin)",
    roles: ['merchant', 'finance', 'ops', 'admin'],
    params: { schema: merchantParams, name: 'merchant id' },
    response: { description: 'statements', schema: z.object({ merchantId: z.string(), statements: z.array(statementSchema) }) },
    read: ({ merchantId }, principal) => service.statementsOf(merchantId, principal),
  });

  return router;
}

/** Settlement runs, statements and the fee table they price with, as the process registry mounts them. */
export const settlementRoutes: RouteFactory = ({ config, db, temporal, openapi, limitMutations, idempotent }) => {
  const service = createSettlementService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE });
  return Router()
    .use(createSettlementRouter({ service, registry: openapi, limitMutations, idempotent }))
    .use(createFeeRateRouter({ service: createFeeRateService({ db, settlements: service }), registry: openapi, limitMutations, idempotent }));
};
