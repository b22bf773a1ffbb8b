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
import { createSecurityEvents, type SecurityEvents } from '../db/repositories/security-events';
import { loadCalendarFile } from '../domain/calendar-file';
import type { PiiVault } from '../security/pii';
import { auditMutations } from './audit';
import { authenticate, authSettingsFrom } from './auth';
import { createCalendarRouter } from './calendar/router';
import { createCalendarService } from './calendar/service';
import { errorMapper, HttpError, notFoundRoute } from './errors';
import { createHealthRouter } from './health';
import { createOpenApiRegistry, generateOpenApiDocument } from './openapi';
import { createOfflineTopUpRouter, createPaymentCallbackRouter } from './payments/router';
import { createPaymentService } from './payments/service';
import { countRefusals, limitByAddress } from './security';
import { createSettlementRouter } from './settlements/router';
import { createSettlementService } from './settlements/service';
import { createShopRouter } from './shops/router';
import { createShopService } from './shops/service';
import { createVerificationRouter } from './verifications/router';
import { createVerificationService } from './verifications/service';
import { createViolationRouter } from './violations/router';
import { createViolationService } from './violations/service';
import { refuseUnstorableText } from './validate';

export interface AppDeps {
  config: AppConfig;
  db: Db;
  temporal: Client;
  logger: Logger;
  vault: PiiVault;
  /** Refusal counters; main.ts passes its own to flush them on shutdown. */
  securityEvents?: SecurityEvents;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The Express app, built without listening so tests can drive it with supertest. */
export function createApp({ config, db, temporal, logger, vault, securityEvents }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');

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
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  app.use(helmet());
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
  app.use('/v1', authenticate(authSettingsFrom(config)));
  // Before the body parser, so a body it refuses (invalid JSON, too large) is audited too.
  app.use('/v1', audit);
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
  v1.use(
    createVerificationRouter({
      service: createVerificationService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, vault, updateWaitMs: config.API_UPDATE_WAIT_MS }),
      registry,
      limitMutations,
    }),
  );
  v1.use(
    createShopRouter({
      service: createShopService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
      registry,
      limitMutations,
    }),
  );
  v1.use(createOfflineTopUpRouter({ service: payments, registry, limitMutations }));
  v1.use(
    createSettlementRouter({
      service: createSettlementService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE }),
      registry,
      limitMutations,
    }),
  );
  v1.use(
    createViolationRouter({
      service: createViolationService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
      registry,
      limitMutations,
    }),
  );
  v1.use(createCalendarRouter({ service: createCalendarService({ db, temporal, calendar }), registry, limitMutations }));
  app.use('/v1', v1);

  const openapi = generateOpenApiDocument(registry);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openapi));

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
