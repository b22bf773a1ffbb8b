import { Router } from 'express';
import { requireRole } from '../auth';
import { describeRoute, errorResponses, json } from '../openapi';
import { idempotencyHeaders } from '../idempotency';
import { parse } from '../validate';
import type { RouterDeps } from '../routes';
import type { FeeRateService } from './service';
import { feeRateAdded, feeRateBody, feeRateList, feeRateQuery } from './schemas';

export type FeeRateRouterDeps = RouterDeps<FeeRateService>;

/** The fee table (docs/rules.md §3), read and extended by finance and admin. */
export function createFeeRateRouter({ service, registry, limitMutations, idempotent }: FeeRateRouterDeps): Router {
  const router = Router();
  const { 409: clash } = errorResponses;

  describeRoute(registry, {
    method: 'get',
    path: '/v1/fee-rates',
    summary: "The fee rates by category and the Shanghai day each takes effect; `at` keeps the one in force that day (finance, admin)",
    request: { query: feeRateQuery },
    responses: { 200: { description: 'the rates', ...json(feeRateList) } },
  });
  router.get('/fee-rates', requireRole('finance', 'admin'), async (req, res) => {
    res.json(await service.list(parse(feeRateQuery, req.query, 'query')));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/fee-rates',
    summary:
      'Add a rate for a category from a Shanghai day: it supersedes the previous one from that day (finance, admin). Rates are never edited: ' +
      '409 fee_rate_exists for a day the category has, 409 fee_rate_used when a statement priced a line on or after that day under the rate it would supersede. ' +
      'Settled periods that left merchants waiting for a rate of the category are re-run',
    request: { headers: idempotencyHeaders, body: { required: true, ...json(feeRateBody) } },
    responses: {
      201: { description: 'added', ...json(feeRateAdded) },
      409: { ...clash, description: 'fee_rate_exists, fee_rate_used (with lastPricedDate), or an Idempotency-Key conflict' },
    },
  });
  router.post('/fee-rates', requireRole('finance', 'admin'), limitMutations, idempotent, async (req, res) => {
    const body = parse(feeRateBody, req.body, 'fee rate');
    res.locals.audit = { action: 'fee_rate.add', target: `fee-rate:${body.category}:${body.effectiveFrom}` };
    res.status(201).json(await service.add(body, req.principal!));
  });

  return router;
}
