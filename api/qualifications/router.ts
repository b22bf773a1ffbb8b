import { Router } from 'express';
import { requireRole } from '../auth';
import { describeRoute, json, problemContent } from '../openapi';
import { exampleProblem } from '../problems';
import { pageOf } from '../pagination';
import { readRoute } from '../read-route';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import { checkStarted, checkView, merchantParams, monthParams, qualificationListQuery, qualificationParams, qualificationView, recordedQualification, recordQualificationBody, startCheckBody, verificationBody } from './schemas';
import { createQualificationService, type QualificationService } from './service';

export type QualificationRouterDeps = RouterDeps<QualificationService>;

const recordedExample = {
  qualificationId: 'qual_0123456789abcdef01234567',
  merchantId: 'm-1001',
  shopId: 'shop-m-1001',
  kind: 'business_licence',
  numberMasked: '****0Y43',
  validFrom: '2024-01-01',
  expiresOn: '2027-12-31',
  status: 'valid',
  recordedBy: 'olga',
  recordedAt: '2026-11-20T02:00:00.000Z',
  supersededBy: null,
  verification: 'verified',
  verifiedBy: 'olga',
  verifiedAt: '2026-11-20T02:00:00.000Z',
  verificationReason: null,
  supersedes: 'qual_fedcba9876543210fedcba98',
};

/** Merchants' licences and the monthly qualification self-check (docs/rules.md). */
export function createQualificationRouter({ service, registry, limitMutations }: QualificationRouterDeps): Router {
  const router = Router();

  router.param('merchantId', (_req, res, next, merchantId: string) => {
    if (merchantParams.safeParse({ merchantId }).success) res.locals.audit = { ...res.locals.audit, target: `merchant:${merchantId}` };
    next();
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/merchants/{merchantId}/qualifications',
    summary:
      "Record a licence (business, food, medical devices) with its expiry (at most 30 years after validFrom), or renew one. Ops and admin record it verified: it supersedes the shop's current one of the kind. A merchant's record is pending until ops verify it: meanwhile it supersedes nothing and the check does not trust it. Only the number's last four characters are kept (merchant for its own, ops, admin)",
    request: { params: merchantParams, body: { required: true, ...json(recordQualificationBody) } },
    responses: {
      201: { description: 'recorded', ...json(recordedQualification, recordedExample) },
      409: { description: 'another first record of the kind landed at the same moment', ...problemContent(exampleProblem('conflict', 'another business_licence was recorded for merchant m-1001 meanwhile: read the list and renew it')) },
    },
  });
  router.post('/merchants/:merchantId/qualifications', requireRole('merchant', 'ops', 'admin'), limitMutations, async (req, res) => {
    const { merchantId } = parse(merchantParams, req.params, 'merchant id');
    res.locals.audit = { action: 'qualification.record', target: `merchant:${merchantId}` };
    const body = parse(recordQualificationBody, req.body, 'qualification');
    const recorded = await service.record(merchantId, body, req.principal!);
    res.locals.audit = { action: recorded.supersedes ? 'qualification.renew' : 'qualification.record', target: `qualification:${recorded.qualificationId}` };
    res.status(201).json(recorded);
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/merchants/{merchantId}/qualifications/{qualificationId}/verification',
    summary: "Verify or reject a merchant's pending licence: verified, it supersedes the shop's current one of the kind and the check trusts it (ops, admin)",
    request: { params: qualificationParams, body: { required: true, ...json(verificationBody, { decision: 'verify', reason: 'licence seen on the SAMR register' }) } },
    responses: {
      200: { description: 'decided', ...json(recordedQualification, { ...recordedExample, verificationReason: 'licence seen on the SAMR register' }) },
      409: { description: 'already verified or rejected', ...problemContent(exampleProblem('qualification_not_pending', 'qualification qual_0123456789abcdef01234567 is already verified', { verification: 'verified' })) },
    },
  });
  router.post('/merchants/:merchantId/qualifications/:qualificationId/verification', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const { merchantId, qualificationId } = parse(qualificationParams, req.params, 'path');
    const body = parse(verificationBody, req.body, 'verification');
    res.locals.audit = { action: `qualification.${body.decision}`, target: `qualification:${qualificationId}`, details: { reason: body.reason } };
    res.json(await service.verify(merchantId, qualificationId, body, req.principal!));
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/merchants/{merchantId}/qualifications',
    summary: "A merchant's licences by id, renewed ones included, each with today's status (merchant for its own, ops, admin)",
    request: { params: merchantParams, query: qualificationListQuery },
    responses: { 200: { description: 'one page; nextCursor continues it', ...json(pageOf(qualificationView)) } },
  });
  router.get('/merchants/:merchantId/qualifications', requireRole('merchant', 'ops', 'admin'), async (req, res) => {
    const { merchantId } = parse(merchantParams, req.params, 'merchant id');
    res.json(await service.list(merchantId, parse(qualificationListQuery, req.query, 'query'), req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/qualification-checks',
    summary: "Run the qualification check of the current Shanghai month now: expiring within 30 days notifies the merchant, expired opens a qualification-mismatch case, each once; a check still running is joined (ops, admin)",
    request: { body: { required: false, ...json(startCheckBody) } },
    responses: {
      202: { description: 'started (or joined): read its counts at /v1/qualification-checks/{month}', ...json(checkStarted, { month: '2026-12', workflowId: 'qualification-check:2026-12', joined: false }) },
      409: { description: 'a month other than the current one', ...problemContent(exampleProblem('not_current_month', 'the check judges by today: only the current month (2026-12) can be run now', { currentMonth: '2026-12' })) },
    },
  });
  router.post('/qualification-checks', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    res.locals.audit = { action: 'qualification_check.start' };
    const { month } = parse(startCheckBody, req.body ?? {}, 'body');
    const started = await service.startCheck(month);
    res.locals.audit = { action: started.joined ? 'qualification_check.join' : 'qualification_check.start', target: `qualification-check:${started.month}` };
    res.status(202).location(`/v1/qualification-checks/${started.month}`).json(started);
  });

  readRoute(router, registry, {
    path: '/v1/qualification-checks/{month}',
    summary: "A month's check: whether it runs, the day it judged by, and its counts (ops, admin)",
    roles: ['ops', 'admin'],
    params: { schema: monthParams, name: 'month' },
    response: { description: 'the check', schema: checkView },
    read: ({ month }) => service.checkOf(month),
  });

  return router;
}

/** Qualifications, as the process registry mounts them. */
export const qualificationRoutes: RouteFactory = ({ config, db, temporal, openapi, limitMutations, idempotent }) =>
  createQualificationRouter({
    service: createQualificationService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    registry: openapi,
    limitMutations,
    idempotent,
  });
