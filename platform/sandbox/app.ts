import express, { Router, type ErrorRequestHandler } from 'express';
import { requireBearerToken } from './auth';
import { callLogRouter, recordCalls } from './call-log';
import { compensationsRouter } from './compensations';
import { notificationsRouter } from './notifications';
import { orderFeedFixturesRouter, orderFeedRouter } from './order-feed';
import { partnersRouter, type PartnerApp } from './partners';
import { partnerLinksRouter } from './partner-links';
import { proceedsTransfersRouter } from './proceeds-transfers';
import { listingsFixturesRouter, listingsRouter } from './listings';
import { productsRouter } from './products';
import { paymentFixturesRouter, paymentsRouter, type PaymentCallbackTarget } from './payments';
import { payoutsRouter } from './payouts';
import { orderRefundsRouter } from './order-refunds';
import { refundsRouter } from './refunds';
import { restrictionsRouter } from './restrictions';
import { salesAndOrdersRouter } from './sales-and-orders';
import { injectFailures, sandboxSettingsSchema, settingsRouter } from './settings';
import { shopFixturesRouter } from './shop-fixtures';
import { createSandboxState, type SandboxState } from './state';
import { saveBeforeAnswering, type SandboxStore } from './store';

export interface SandboxPlatformOptions {
  token: string;
  latencyMs?: number;
  errorRate?: number;
  /** Source of the failure-injection dice; tests pass a fixed one. */
  random?: () => number;
  /** Where payment callbacks go, signed with the shared secret; absent, none are sent. */
  paymentCallback?: PaymentCallbackTarget;
  /** Where the sandbox keeps its state across restarts; absent, it lives in memory only. */
  store?: SandboxStore;
  /** The developer app the partners (under /partners) know: its credentials and callback URLs. */
  partnerApp?: PartnerApp;
  /** The partners' clock (code and token expiry); tests pass one they can move. */
  now?: () => number;
}

export interface SandboxPlatform {
  app: express.Express;
  state: SandboxState;
}

/**
 * The sandbox platform: a real HTTP API standing in for the Kuaishou / Taobao / JD /
 * Youzan open APIs in dev and tests. Built without listening, so supertest can use it.
 */
export function createSandboxPlatform(options: SandboxPlatformOptions): SandboxPlatform {
  if (!options.token) throw new Error('sandbox platform needs a non-empty token');
  const settings = sandboxSettingsSchema.parse({ latencyMs: options.latencyMs ?? 0, errorRate: options.errorRate ?? 0 });
  const state = createSandboxState(settings);
  options.store?.load(state);

  const v1 = Router();
  v1.use(recordCalls(state));
  v1.use(requireBearerToken(options.token));
  v1.use(settingsRouter(state.settings), callLogRouter(state), shopFixturesRouter(state), listingsFixturesRouter(state), orderFeedFixturesRouter(state), paymentFixturesRouter(state, options.paymentCallback));
  v1.use(injectFailures(state.settings, options.random ?? Math.random));
  v1.use(
    notificationsRouter(state),
    restrictionsRouter(state),
    productsRouter(state),
    listingsRouter(state),
    partnerLinksRouter(state),
    proceedsTransfersRouter(state),
    refundsRouter(state),
    payoutsRouter(state),
    orderRefundsRouter(state),
    salesAndOrdersRouter(state),
    orderFeedRouter(state),
    compensationsRouter(state),
    // Last: `/payments/:paymentId` must not shadow `/payments/refunds` and `/payments/payouts`.
    paymentsRouter(state),
  );

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Catalogue fixtures carry thousands of products; every other body stays small.
  app.use('/partners/_stores', express.json({ limit: '256mb' }));
  app.use(express.json({ limit: '1mb' }));
  if (options.store) app.use(saveBeforeAnswering(state, options.store));
  app.use('/v1', v1);
  app.use('/partners', partnersRouter(state, { app: options.partnerApp, random: options.random ?? Math.random, now: options.now ?? Date.now }));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(jsonErrors);
  return { app, state };
}

// body-parser errors carry their HTTP status (400 bad JSON, 413 too large); anything
// else is a sandbox bug and shows as 500.
const jsonErrors: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const status = errorStatus(err);
  res.status(status).json({ error: status === 500 ? 'sandbox_internal_error' : errorType(err) });
};

function errorStatus(err: unknown): number {
  const status = typeof err === 'object' && err !== null && 'status' in err ? Number(err.status) : NaN;
  return status >= 400 && status < 500 ? status : 500;
}

function errorType(err: unknown): string {
  const type = typeof err === 'object' && err !== null && 'type' in err ? String(err.type) : 'bad_request';
  return type.replace(/\W+/g, '_');
}
