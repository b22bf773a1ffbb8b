import type { Client } from '@temporalio/client';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler, Router } from 'express';
import type { AppConfig } from '../config/config';
import type { Db } from '../db/connection';
import type { PiiVault } from '../security/pii';
import type { PartnerGateway } from '../platform/partners/types';
import type { createPaymentService } from './payments/service';

/** What a process's routes are built from: the app's clients and its shared middleware. */
export interface RouteContext {
  config: AppConfig;
  db: Db;
  temporal: Client;
  vault: PiiVault;
  /** Every route describes itself here; /openapi.json is generated from it. */
  openapi: OpenAPIRegistry;
  limitMutations: RequestHandler;
  /** The Idempotency-Key of routes that create or move money (api/idempotency.ts). */
  idempotent: RequestHandler;
  /** Taobao Union, Youzan, JD Union, Pinduoduo: the store checks a binding makes before anything is saved. */
  partners: PartnerGateway;
  /** One payment service for the platform's callback (mounted before the JWT check) and the routes. */
  payments: ReturnType<typeof createPaymentService>;
}

/**
 * The routes a process exposes, as the registry (worker/registry.ts) names them. Several
 * processes may share one factory (the shop routes serve deposits, closures and promotion
 * closures); the app mounts each factory once.
 */
export type RouteFactory = (ctx: RouteContext) => Router;

/** What a process's router is built from: its service, the document its routes describe themselves in, the mutation rate limit and the Idempotency-Key. */
export interface RouterDeps<Service> {
  service: Service;
  registry: OpenAPIRegistry;
  limitMutations: RequestHandler;
  idempotent: RequestHandler;
}
