import express, { Router } from 'express';
import { recordCalls } from '../call-log';
import { injectFailures } from '../settings';
import type { SandboxState } from '../state';
import { requireApp, type PartnerApp } from './app-auth';
import { catalogueFixturesRouter, catalogueRouter } from './catalogue';
import { isPartnerControlPath, partnerFixturesRouter } from './fixtures';
import { jdUnionRouter } from './jd-union';
import { pinduoduoRouter } from './pinduoduo';
import { storesRouter } from './stores';
import { taobaoUnionRouter } from './taobao-union';
import { youzanRouter } from './youzan';

export type { PartnerApp } from './app-auth';

export interface PartnersOptions {
  /** The app the partners know; absent, every partner call is refused as an unknown client. */
  app?: PartnerApp;
  random: () => number;
  now: () => number;
}

// What OAuth calls carry that would let a reader of the call log act as the app or the merchant.
const SECRET_FIELDS = new Set(['client_secret', 'code', 'refresh_token', 'access_token']);

export function redactSecrets(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(redactSecrets);
  if (!body || typeof body !== 'object') return body;
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, SECRET_FIELDS.has(key) ? '[redacted]' : redactSecrets(value)]));
}

/**
 * Taobao Union, Youzan, JD Union and Pinduoduo as the sandbox plays them, under /partners.
 * They authenticate the app (HTTP Basic) or the merchant's Youzan access token, never the
 * platform token; latency and failures are injected as on /v1, and calls are logged there.
 */
export function partnersRouter(state: SandboxState, options: PartnersOptions): Router {
  const router = Router();
  // OAuth token requests are form-encoded (RFC 6749 §4.1.3); JSON is parsed by the app.
  router.use(express.urlencoded({ extended: false, limit: '64kb' }));
  router.use(recordCalls(state, { isControl: isPartnerControlPath, redact: redactSecrets }));
  router.use(partnerFixturesRouter(state), catalogueFixturesRouter(state));
  router.use(injectFailures(state.settings, options.random));
  router.use(youzanRouter(state, options.app, options.now), storesRouter(state, options.app, options.now), catalogueRouter(state, options.app, options.now));
  router.use(['/taobao-union', '/jd-union', '/pinduoduo'], requireApp(options.app));
  router.use(taobaoUnionRouter(state), jdUnionRouter(state), pinduoduoRouter(state));
  return router;
}
