import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import swaggerUi from 'swagger-ui-express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import type { Db } from '../db/connection';
import { createCalendarSource } from '../db/calendar-source';
import { createAuditLog } from '../db/repositories/audit-log';
import { createIdempotencyKeyRepository } from '../db/repositories/idempotency-keys';
import { createSecurityEvents, type SecurityEvents } from '../db/repositories/security-events';
import { loadCalendarFile } from '../domain/calendar-file';
import type { PiiVault } from '../security/pii';
import { auditMutations } from './audit';
import { authenticate, authSettingsFrom } from './auth';
import { createCalendarRouter } from './calendar/router';
import { createCalendarService } from './calendar/service';
import { errorMapper, HttpError, notFoundRoute } from './errors';
import { createHealthRouter } from './health';
import { idempotent } from './idempotency';
import { createHttpMetrics, type HttpMetrics } from './metrics';
import { traceRequests } from './tracing';
import { createOpenApiRegistry, generateOpenApiDocument } from './openapi';
import { problemTypesRouter } from './problems';
import { createPaymentCallbackRouter } from './payments/router';
import { createPaymentService } from './payments/service';
import { countRefusals, limitByAddress } from './security';
import { refuseUnstorableText } from './validate';
import type { RouteContext } from './routes';
import { routeFactories } from '../worker/registry';
import { partnerGatewayFrom } from '../worker/dependencies';
import type { PartnerGateway } from '../platform/partners/types';
import { bindingServiceFor, createBindingCallbackRouter } from './bindings/router';
import { CAMPAIGN_ROLES } from './campaigns/router';

export interface AppDeps {
  config: AppConfig;
  db: Db;
  temporal: Client;
  logger: Logger;
  vault: PiiVault;
  /** Refusal counters; main.ts passes its own to flush them on shutdown. */
  securityEvents?: SecurityEvents;
  /** The partner platforms (by default over HTTP from config); tests pass a fake. */
  partners?: PartnerGateway;
  /** The HTTP metrics; main.ts passes its own to serve them apart on API_METRICS_PORT. */
  metrics?: HttpMetrics;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Paths whose whole query is a credential (an OAuth redirect's code and state). */
const SECRET_QUERY_PATHS = new Set(['/v1/bindings/oauth/youzan/callback']);
/** Query values never logged, whatever the path. */
const SECRET_QUERY_NAMES = new Set(['code', 'state', 'token', 'access_token', 'refresh_token']);

/** The url as logged: an OAuth callback's query dropped, any code, state or token value masked. */
export function loggableUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const path = url.slice(0, at);
  if (SECRET_QUERY_PATHS.has(path)) return `${path}?[redacted]`;
  const query = new URLSearchParams(url.slice(at + 1));
  for (const name of [...query.keys()]) if (SECRET_QUERY_NAMES.has(name.toLowerCase())) query.set(name, '[redacted]');
  return `${path}?${query.toString()}`;
}

/** The Express app, built without listening so tests can drive it with supertest. */
export function createApp({ config, db, temporal, logger, vault, securityEvents, metrics, partners = partnerGatewayFrom(config) }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const httpMetrics = metrics ?? createHttpMetrics();
  if (config.METRICS_ENABLED) app.use(httpMetrics.measure);

  app.use(
    pinoHttp({
      logger,
      // A caller's X-Request-Id is kept when it is sane, so logs join across services.
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // One short line per request: no headers (tokens), no bodies (personal data).
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: loggableUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  // After pino-http, so the request's logger carries the span to its last line.
  app.use(traceRequests());
  app.use(helmet());
  // Unauthenticated, as Prometheus scrapes are; API_METRICS_PORT moves it off this port.
  if (config.METRICS_ENABLED && config.API_METRICS_PORT === undefined) app.get('/metrics', httpMetrics.serve);
  // Cheapest first: count refusals, limit by address, check the token (headers only), write
  // the audit attempt, and only then read a body. An anonymous flood is refused before any
  // body is parsed or any row written, and counted, not audited.
  const events = securityEvents ?? securityEventsFor(config, db, logger);
  app.use('/v1', countRefusals(events), limitByAddress(config.API_ADDRESS_RATE_LIMIT_PER_MINUTE));
  const registry = createOpenApiRegistry();
  const audit = auditMutations(createAuditLog(db), logger);
  const payments = createPaymentService({ db, temporal, updateWaitMs: config.API_UPDATE_WAIT_MS });
  // Before the JWT check and the JSON parser: the platform proves itself with a signature over
  // the raw body; the callback is audited once that signature holds.
  app.use(
    createPaymentCallbackRouter({
      service: payments,
      registry,
      secret: config.PLATFORM_CALLBACK_SECRET,
      toleranceSeconds: config.PLATFORM_CALLBACK_TOLERANCE_SECONDS,
      bodyLimit: config.API_BODY_LIMIT,
      audit,
    }),
  );
  // Youzan's OAuth redirect: a browser without our token, proven by its single-use state.
  app.use(createBindingCallbackRouter({ service: bindingServiceFor({ config, db, temporal, vault, partners }), registry, db }));
  app.use('/v1', authenticate(authSettingsFrom(config)));
  // Before the body parser, so a body it refuses (invalid JSON, too large) is audited too.
  app.use('/v1', audit);
  // A campaign's list is larger than any other body; parsed here, the parser below leaves it be.
  // Only for the roles that may start one: anyone else's body keeps the usual limit (8 MB parsed
  // for a request refused 403 anyway would be free work for any merchant's token).
  const campaignBody = express.json({ limit: config.API_CAMPAIGN_BODY_LIMIT });
  app.post('/v1/campaigns', (req, res, next) => (CAMPAIGN_ROLES.some((r) => r === req.principal?.role) ? campaignBody(req, res, next) : next()));
  app.use(express.json({ limit: config.API_BODY_LIMIT }));

  const limitMutations = rateLimit({
    windowMs: 60_000,
    limit: config.API_RATE_LIMIT_PER_MINUTE,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => (req.principal ? `sub:${req.principal.sub}` : ipKeyGenerator(req.ip ?? '')),
    handler: (_req, _res, next) => next(new HttpError(429, 'rate_limited', 'too many requests; slow down and retry')),
  });

  // The calendar the workers use: package, CALENDAR_EXTRA_PATH, years loaded by ops.
  const calendar = createCalendarSource(db, config.CALENDAR_EXTRA_PATH ? loadCalendarFile(config.CALENDAR_EXTRA_PATH) : undefined);
  app.use(createHealthRouter({ db, temporal, calendar }));

  const v1 = express.Router();
  // After authentication (a stranger learns nothing), before any route: one check for all.
  v1.use(refuseUnstorableText);
  // Each process's routes, as the registry declares them.
  // A request is answered within API_UPDATE_WAIT_MS plus a start; a claim minutes old belonged to a process that died.
  const idempotency = idempotent({ keys: createIdempotencyKeyRepository(db), logger, abandonedAfterMs: Math.max(300_000, 2 * config.API_UPDATE_WAIT_MS) });
  const context: RouteContext = { config, db, temporal, vault, openapi: registry, limitMutations, idempotent: idempotency, payments, partners };
  for (const routes of routeFactories()) v1.use(routes(context));
  v1.use(createCalendarRouter({ service: createCalendarService({ db, temporal, calendar }), registry, limitMutations, idempotent: idempotency }));
  app.use('/v1', v1);

  const openapi = generateOpenApiDocument(registry);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openapi));

  app.use(problemTypesRouter());
  app.use(notFoundRoute);
  app.use(errorMapper(logger));
  return app;
}

export function securityEventsFor(config: AppConfig, db: Db, logger: Logger): SecurityEvents {
  return createSecurityEvents(db, {
    flushMs: config.SECURITY_EVENTS_FLUSH_MS,
    maxPending: config.SECURITY_EVENTS_MAX_PENDING,
    onError: (err) => logger.error({ err }, 'security events write failed'),
  });
}
