import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import { loadConfig, type AppConfig } from '../../config/config';
import { createApp } from '../../api/app';
import { createVerificationService, type VerificationService } from '../../api/verifications/service';
import { piiVaultFrom } from '../../security/pii';
import { maxTokenLifetimeSeconds, signToken, type TokenClaims } from '../../security/tokens';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandboxPlatform, type PaymentCallbackTarget, type RunningSandbox } from '../../platform/sandbox';
import { activityDepsFrom, createActivities, partnerGatewayFrom, type ActivityDeps } from '../../worker/dependencies';
import type { PlatformClient } from '../../platform/types';
import type { PartnerGateway } from '../../platform/partners/types';
import { writeTestCalendarFile } from './calendar';
import { createTestDb, type TestDb } from './db';
import { createFakePartnerGateway } from './partner-gateway-fake';
import { startTimeSkippingEnv, workflowBundle } from './temporal';
import type { Db } from '../../db/connection';

export interface Stack {
  env: TestWorkflowEnvironment;
  db: Db;
  sandbox: RunningSandbox;
  config: AppConfig;
  app: Express;
  verifications: VerificationService;
  token(claims: TokenClaims): Promise<string>;
  /** Where the sandbox sends its signed payment callbacks (empty url: none are sent). */
  paymentCallback: PaymentCallbackTarget;
  teardown(): Promise<void>;
}

const SANDBOX_TOKEN = 'test-platform-token';

function withPlatform(deps: ActivityDeps, wrap: ((platform: PlatformClient) => PlatformClient) | undefined, partners: PartnerGateway): ActivityDeps {
  const withPartners = { ...deps, partners };
  return wrap ? { ...withPartners, platform: wrap(deps.platform) } : withPartners;
}

/**
 * Everything merchant-ops runs, wired as in production but on the time-skipping
 * server: a real worker with the real activities over a real database and the
 * sandbox platform (a real HTTP server), plus the Express app.
 */
export interface StackOptions {
  /** Wraps the platform client the activities use, e.g. to inject faults. */
  wrapPlatform?: (platform: PlatformClient) => PlatformClient;
  /**
   * The partner platforms the activities and the API use: a fresh in-memory fake by default;
   * `'sandbox'` is the HTTP gateway over the stack's sandbox (its /partners endpoints), as in
   * the dev stack.
   */
  partners?: PartnerGateway | 'sandbox';
  /** Serve the app on a port, so the sandbox's payment callbacks reach it. */
  listenForCallbacks?: boolean;
  /** The worker's activity slots (the SDK's default otherwise): one shows an activity that waits on another. */
  activitySlots?: number;
}

export async function startStack(overrides: Record<string, string> = {}, options: StackOptions = {}): Promise<Stack> {
  const env = await startTimeSkippingEnv();
  let testDb: TestDb | undefined;
  let sandbox: RunningSandbox | undefined;
  try {
    testDb = await createTestDb();
    const paymentCallback: PaymentCallbackTarget = { url: '', secret: '' };
    // The app the partners know is the one the config's defaults name.
    const defaults = loadConfig({ NODE_ENV: 'test' });
    const partnerApp = { appId: defaults.YOUZAN_APP_ID, appSecret: defaults.YOUZAN_APP_SECRET, redirectUris: [defaults.YOUZAN_REDIRECT_URI] };
    sandbox = await startSandboxPlatform({ port: 0, token: SANDBOX_TOKEN, paymentCallback, partnerApp });
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      TEMPORAL_TASK_QUEUE: `test-${randomBytes(4).toString('hex')}`,
      PLATFORM_BASE_URL: sandbox.url,
      PLATFORM_API_TOKEN: SANDBOX_TOKEN,
      PARTNER_BASE_URL: `${sandbox.url}/partners`,
      CALENDAR_EXTRA_PATH: writeTestCalendarFile(),
      // Every request of a suite comes from one loopback address, polling loops included.
      API_ADDRESS_RATE_LIMIT_PER_MINUTE: '100000',
      ...overrides,
    });
    const db = testDb.db;
    const partners = options.partners === 'sandbox' ? partnerGatewayFrom(config) : (options.partners ?? createFakePartnerGateway());
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowBundle: workflowBundle(),
      activities: createActivities(withPlatform(activityDepsFrom(config, db, env.client), options.wrapPlatform, partners)),
      ...(options.activitySlots ? { maxConcurrentActivityTaskExecutions: options.activitySlots } : {}),
    });
    const running = worker.run();
    const vault = piiVaultFrom(config);
    const logger = pino({ level: 'silent' });
    const auth = { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
    const startedDb = testDb;
    const startedSandbox = sandbox;
    const app = createApp({ config, db, temporal: env.client, logger, vault, partners });
    paymentCallback.secret = config.PLATFORM_CALLBACK_SECRET;
    let server: Server | undefined;
    if (options.listenForCallbacks) {
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      paymentCallback.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/platform/payment-callbacks`;
    }
    return {
      env,
      db,
      sandbox,
      config,
      app,
      paymentCallback,
      verifications: createVerificationService({ db, temporal: env.client, taskQueue: config.TEMPORAL_TASK_QUEUE, vault }),
      // Each role's longest allowed lifetime: the API accepts every token a helper mints.
      token: (claims) => signToken(auth, claims, maxTokenLifetimeSeconds(claims.role, config)),
      async teardown() {
        if (server) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server!.close(() => resolve()));
        }
        worker.shutdown();
        await running;
        await startedSandbox.close();
        await startedDb.destroy();
        await env.teardown();
      },
    };
  } catch (err) {
    await sandbox?.close();
    await testDb?.destroy();
    await env.teardown();
    throw err;
  }
}
