import express, { Router, type RequestHandler } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { verifyPlatformCallback, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../security/platform-signature';
import { requireRole } from '../auth';
import { HttpError } from '../errors';
import { idempotencyHeaders } from '../idempotency';
import { describeRoute, errorResponses, json, problemContent, updateResponses } from '../openapi';
import { exampleProblem } from '../problems';
import { readRoute } from '../read-route';
import { parse } from '../validate';
import type { RouterDeps } from '../routes';
import type { PaymentService } from './service';
import {
  approvalResponse,
  offlineTopUpBody,
  offlineTopUpList,
  offlineTopUpParams,
  offlineTopUpView,
  paymentCallbackBody,
  paymentCallbackResponse,
} from './schemas';

export type OfflineTopUpRouterDeps = RouterDeps<PaymentService>;

const shopParams = offlineTopUpParams.pick({ shopId: true });
const OFFLINE_PATH = '/deposit/offline-top-ups';

/** Offline transfers: finance records one, a second finance or admin person approves it. */
export function createOfflineTopUpRouter({ service, registry, limitMutations, idempotent }: OfflineTopUpRouterDeps): Router {
  const router = Router();
  const { 403: denied, 409: clash } = errorResponses;

  describeRoute(registry, {
    method: 'post',
    path: `/v1/shops/{shopId}${OFFLINE_PATH}`,
    summary: 'Record an offline transfer into a deposit; nothing is credited until a second person approves it (finance, admin)',
    request: { params: shopParams, headers: idempotencyHeaders, body: { required: true, ...json(offlineTopUpBody) } },
    responses: { 201: { description: 'recorded, pending approval', ...json(offlineTopUpView) }, 409: { ...clash, description: 'this transfer reference is already recorded for the shop' } },
  });
  router.post(`/shops/:shopId${OFFLINE_PATH}`, requireRole('finance', 'admin'), limitMutations, idempotent, async (req, res) => {
    const { shopId } = parse(shopParams, req.params, 'shop id');
    const body = parse(offlineTopUpBody, req.body ?? {}, 'request body');
    res.locals.audit = { action: 'deposit.offline_top_up.record', target: `shop:${shopId}` };
    const recorded = await service.recordOffline(shopId, body, req.principal!);
    res.locals.audit = { ...res.locals.audit, target: `shop:${shopId}:offline:${recorded.offlineTopUpId}` };
    res.status(201).json(recorded);
  });

  readRoute(router, registry, {
    path: `/v1/shops/{shopId}${OFFLINE_PATH}`,
    summary: "The shop's offline transfers, newest first (finance, ops, admin)",
    roles: ['finance', 'ops', 'admin'],
    params: { schema: shopParams, name: 'shop id' },
    response: { description: 'ok', schema: offlineTopUpList },
    read: ({ shopId }, principal) => service.listOffline(shopId, principal),
  });

  describeRoute(registry, {
    method: 'post',
    path: `/v1/shops/{shopId}${OFFLINE_PATH}/{offlineTopUpId}/approval`,
    summary: 'Approve an offline transfer and credit it, once; never by whoever recorded it (finance, admin)',
    request: { params: offlineTopUpParams, headers: idempotencyHeaders, body: { required: false, ...json(z.object({}).strict()) } },
    responses: {
      200: { description: 'approved and credited (a repeat replays the credit)', ...json(approvalResponse) },
      403: { ...denied, description: 'wrong role, or the person who recorded the transfer' },
      409: { ...clash, description: 'the deposit process refused the credit (shop closed, or the record changed meanwhile)' },
      ...updateResponses,
    },
  });
  router.post(`/shops/:shopId${OFFLINE_PATH}/:offlineTopUpId/approval`, requireRole('finance', 'admin'), limitMutations, idempotent, async (req, res) => {
    const { shopId, offlineTopUpId } = parse(offlineTopUpParams, req.params, 'path');
    parse(z.object({}).strict(), req.body ?? {}, 'request body');
    res.locals.audit = { action: 'deposit.offline_top_up.approve', target: `shop:${shopId}:offline:${offlineTopUpId}` };
    res.json(await service.approveOffline(shopId, offlineTopUpId, req.principal!));
  });

  return router;
}

export interface PaymentCallbackRouterDeps {
  service: PaymentService;
  registry: OpenAPIRegistry;
  secret: string;
  toleranceSeconds: number;
  bodyLimit: string;
  /** The audit trail, run once the signature holds. */
  audit: RequestHandler;
  now?: () => number;
}

export const PAYMENT_CALLBACK_PATH = '/v1/platform/payment-callbacks';

/**
 * The platform's signed payment callbacks. Not behind our JWT: the platform proves itself
 * with an HMAC over the timestamp and the raw body, so the body is read raw, checked, and
 * only then parsed. A confirmed payment is credited on the top-up's own path and key.
 */
export function createPaymentCallbackRouter({ service, registry, secret, toleranceSeconds, bodyLimit, audit, now = Date.now }: PaymentCallbackRouterDeps): Router {
  const router = Router();
  registry.registerPath({
    method: 'post',
    path: PAYMENT_CALLBACK_PATH,
    summary: `The platform tells us a payment changed status. Signed: ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">, ${TIMESTAMP_HEADER}: <Unix seconds>`,
    security: [],
    request: {
      headers: z.object({ [SIGNATURE_HEADER.toLowerCase()]: z.string(), [TIMESTAMP_HEADER.toLowerCase()]: z.string() }),
      body: { required: true, ...json(paymentCallbackBody) },
    },
    responses: {
      200: { description: 'acknowledged; a confirmed payment is credited once (a repeat replays)', ...json(paymentCallbackResponse) },
      400: { description: 'a body that is not a payment', ...problemContent(exampleProblem('invalid_request', 'payment callback is invalid', { issues: [{ path: 'paymentId', message: 'Invalid input: expected string, received undefined' }] })) },
      401: { description: 'missing, stale or wrong signature', ...problemContent(exampleProblem('invalid_signature', 'payment callback refused: stale signature')) },
      404: { description: 'unknown shop or payment', ...problemContent(exampleProblem('payment_not_found', 'payment pay-1 is not known to the payment platform')) },
      409: { description: 'the payment disagrees with what the platform reports, or the shop is closed', ...problemContent(exampleProblem('payment_mismatch', 'payment pay-1 is for another shop', { retryable: false })) },
      ...updateResponses,
      413: errorResponses[413],
      429: errorResponses[429],
      500: errorResponses[500],
      503: errorResponses[503],
    },
  });
  // The signature first: only a request the platform signed is audited (an unsigned flood is
  // counted as refusals by address, never written row by row), then the usual audit trail.
  const signed: RequestHandler = (req, res, next) => {
    res.locals.audit = { action: 'payment.callback' };
    res.locals.auditActor = { sub: 'payment-platform', role: 'platform' };
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifyPlatformCallback({
      secret,
      timestamp: req.get(TIMESTAMP_HEADER),
      signature: req.get(SIGNATURE_HEADER),
      rawBody,
      nowMs: now(),
      toleranceSeconds,
    });
    if (!check.ok) return next(new HttpError(401, 'invalid_signature', `payment callback refused: ${check.reason} signature`));
    next();
  };
  router.post(PAYMENT_CALLBACK_PATH, express.raw({ type: () => true, limit: bodyLimit }), signed, audit, async (req, res) => {
    const rawBody = req.body as Buffer;
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
    }
    const payment = parse(paymentCallbackBody, json, 'payment callback');
    res.locals.audit = { action: 'payment.callback', target: `shop:${payment.shopId}:payment:${payment.paymentId}` };
    if (payment.status !== 'confirmed') {
      res.json({ paymentId: payment.paymentId, credited: false });
      return;
    }
    res.json(await service.paymentConfirmed(payment.shopId, payment.paymentId));
  });
  return router;
}
