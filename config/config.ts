import { z } from 'zod';

/**
 * The one configuration schema of merchant-ops. It is parsed once at start
 * (`loadConfig`) and passed down; nothing else reads `process.env`.
 *
 * Every business number here is a [default] from docs/rules.md unless said otherwise:
 * the sources are silent on it, so it must stay configurable.
 */
const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const int = (dflt: number) => z.coerce.number().int().nonnegative().default(dflt);
const seconds = (dflt: number) => z.coerce.number().int().positive().default(dflt);

// Dev-only secrets: fine on a laptop, refused when NODE_ENV=production.
const DEV_JWT_SECRET = 'merchant-ops-dev-only-jwt-secret-change-me-000000';
const DEV_PII_KEY = Buffer.alloc(32, 7).toString('base64');
const DEV_CALLBACK_SECRET = 'merchant-ops-dev-only-platform-callback-secret-0';
const DEV_IDENTITY_HASH_KEY = Buffer.alloc(32, 9).toString('base64');
const DEV_PARTNER_SECRETS_KEY = Buffer.alloc(32, 11).toString('base64');
const DEV_YOUZAN_APP_SECRET = 'merchant-ops-dev-only-youzan-app-secret-000000';

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // json for machines; pretty (pino-pretty, a dev dependency) for a person at a terminal.
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),

    // Loopback by default; containers set 0.0.0.0 so their neighbours can reach them.
    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: int(3000),
    API_BODY_LIMIT: z.string().default('100kb'),
    // A campaign's list (docs/rules.md §5.5): 50,000 shop ids are about 1.3 MB of JSON.
    API_CAMPAIGN_BODY_LIMIT: z.string().default('8mb'),
    API_RATE_LIMIT_PER_MINUTE: int(120),
    // How long a route waits for a process to answer an update before it answers 202 with the
    // process's state instead: a step waiting for ops must never hold a request open.
    API_UPDATE_WAIT_MS: int(5_000),
    // Every /v1 request of one client address, counted before its token is checked or its body
    // read, so an anonymous flood costs one counter bump per request. Generous: an office
    // behind one NAT address shares it.
    API_ADDRESS_RATE_LIMIT_PER_MINUTE: int(1_200),
    // Refused requests (401, 403, 429) are counted in memory per address, kind and minute and
    // written this often: a crash loses at most this much of the counts, never an audit row.
    SECURITY_EVENTS_FLUSH_MS: int(5_000),
    // Distinct (address, kind, minute) counters held between flushes; beyond it, further
    // addresses are counted under one 'other' address so memory stays bounded.
    SECURITY_EVENTS_MAX_PENDING: int(10_000),
    // On SIGTERM or Ctrl-C: how long requests in flight and running activities get to finish
    // before they are cut off (HTTP connections closed; activities cancelled). A process that
    // has not stopped a few seconds after it exits anyway (exit code 1).
    SHUTDOWN_GRACE_MS: int(10_000),

    // Prometheus metrics (docs: README "Metrics and tracing"). The API serves GET /metrics on
    // its own port unless API_METRICS_PORT gives it a listener of its own (on METRICS_HOST), so
    // a deployment can keep it off the public port. The worker always serves on
    // WORKER_METRICS_PORT: the Temporal SDK's runtime metrics and the business gauges together.
    METRICS_ENABLED: bool.default(true),
    METRICS_HOST: z.string().default('127.0.0.1'),
    API_METRICS_PORT: z.coerce.number().int().nonnegative().optional(),
    WORKER_METRICS_PORT: int(9464),
    // The business gauges are computed by queries on each scrape; a scrape waits this long at most.
    WORKER_METRICS_QUERY_TIMEOUT_MS: int(2_000),
    // OpenTelemetry traces: spans are always made (their ids go into every log line), and
    // exported only when this says where: none (default), otlp (OTLP/HTTP to
    // OTEL_EXPORTER_OTLP_ENDPOINT), or console (a person debugging; not JSON).
    OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp', 'console']).default('none'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().default('http://127.0.0.1:4318'),
    OTEL_SERVICE_NAME: z.string().default('merchant-ops'),

    DATABASE_URL: z.string().url().optional(),
    // The schema owner, for migrations only (defaults to DATABASE_URL). When its user differs,
    // the migration creates or updates DATABASE_URL's role with only the DML the app needs.
    MIGRATION_DATABASE_URL: z.string().url().optional(),
    PGLITE_DIR: z.string().default('data/pglite'),
    // npm start only: where the Temporal dev server's file, its pid file and the sandbox's state live.
    DEV_DATA_DIR: z.string().default('data'),

    TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_TASK_QUEUE: z.string().default('merchant-ops'),
    TEMPORAL_TLS: bool.default(false),
    TEMPORAL_TLS_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_KEY_PATH: z.string().optional(),
    TEMPORAL_API_KEY: z.string().optional(),
    TEMPORAL_UI_PORT: int(8233),
    TEMPORAL_CLI_PATH: z.string().optional(),
    TEMPORAL_TEST_SERVER_PATH: z.string().optional(),
    // The workflow bundle built ahead (npm run build: dist/workflow-bundle.js); without it the
    // worker bundles workflows/ at start, as in development.
    WORKFLOW_BUNDLE_PATH: z.string().optional(),
    // Where the worker marks itself alive while it polls (the compose healthcheck reads it).
    WORKER_HEALTH_FILE: z.string().optional(),

    PLATFORM_BASE_URL: z.string().url().default('http://127.0.0.1:3100'),
    PLATFORM_API_TOKEN: z.string().default('sandbox-token'),
    PLATFORM_TIMEOUT_MS: int(10_000),
    SANDBOX_HOST: z.string().default('127.0.0.1'),
    SANDBOX_PORT: int(3100),
    SANDBOX_LATENCY_MS: int(0),
    SANDBOX_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
    // A JSON file the sandbox keeps its state in across restarts (npm start uses
    // data/sandbox-state.json); unset, it forgets everything when it stops.
    SANDBOX_STATE_FILE: z.string().optional(),
    // Shared with the platform: it signs its payment callbacks with it (HMAC-SHA256).
    PLATFORM_CALLBACK_SECRET: z.string().min(32).default(DEV_CALLBACK_SECRET),
    // How old (or how far ahead) a signed callback's timestamp may be.
    PLATFORM_CALLBACK_TOLERANCE_SECONDS: int(300),
    // Where the sandbox platform sends its payment callbacks: our API's callback route.
    SANDBOX_CALLBACK_URL: z.string().url().default('http://127.0.0.1:3000/v1/platform/payment-callbacks'),

    JWT_SECRET: z.string().min(32).default(DEV_JWT_SECRET),
    JWT_ISSUER: z.string().default('merchant-ops'),
    JWT_AUDIENCE: z.string().default('merchant-ops-api'),
    // The longest a token may live (exp − iat, and what is left of it), by role: the more a
    // role may do, the shorter a stolen token is worth anything. Seconds.
    JWT_MAX_LIFETIME_MERCHANT_SECONDS: seconds(24 * 3600),
    JWT_MAX_LIFETIME_STAFF_SECONDS: seconds(12 * 3600),
    JWT_MAX_LIFETIME_ADMIN_SECONDS: seconds(3600),
    // How far ahead of our clock a token's iat may be (the issuer's clock may run fast).
    JWT_CLOCK_SKEW_SECONDS: int(60),
    // AES-256-GCM key (base64 of 32 bytes) for ID numbers and bank cards at rest.
    PII_ENCRYPTION_KEY: z
      .string()
      .default(DEV_PII_KEY)
      .refine((k) => Buffer.from(k, 'base64').length === 32, 'must be base64 of exactly 32 bytes'),
    // HMAC-SHA256 key (base64, at least 32 bytes) for the keyed hash of ID numbers and USCCs
    // that makes one identity number belong to one merchant. A plain hash would not do: an
    // ID number is guessable from its birth date and check digit. Changing it orphans every
    // stored key: run scripts/backfill-identity-keys.ts after a rotation.
    IDENTITY_HASH_KEY: z
      .string()
      .default(DEV_IDENTITY_HASH_KEY)
      .refine((k) => Buffer.from(k, 'base64').length >= 32, 'must be base64 of at least 32 bytes'),

    // Partner platforms (docs/rules.md §5): Taobao Union, Youzan, JD Union, Pinduoduo. The dev
    // stack's sandbox serves all of them under /partners.
    PARTNER_BASE_URL: z.string().url().default('http://127.0.0.1:3100/partners'),
    PARTNER_TIMEOUT_MS: int(10_000),
    // Youzan OAuth developer credentials (AppID, AppSecret) from the Kuaishou open platform [src].
    YOUZAN_APP_ID: z.string().min(1).default('merchant-ops-dev'),
    YOUZAN_APP_SECRET: z.string().min(16).default(DEV_YOUZAN_APP_SECRET),
    // Where Youzan sends the merchant back with the authorisation code: our API's callback route.
    YOUZAN_REDIRECT_URI: z.string().url().default('http://127.0.0.1:3000/v1/bindings/oauth/youzan/callback'),
    // AES-256-GCM key (base64 of 32 bytes) for partner secrets at rest (access and refresh tokens).
    PARTNER_SECRETS_KEY: z
      .string()
      .default(DEV_PARTNER_SECRETS_KEY)
      .refine((k) => Buffer.from(k, 'base64').length === 32, 'must be base64 of exactly 32 bytes'),
    // [default] refresh a Youzan access token this long before it expires (docs/rules.md §5.1).
    PARTNER_TOKEN_REFRESH_LEAD_SECONDS: seconds(24 * 3600),

    CALENDAR_EXTRA_PATH: z.string().optional(),
    // [src] both the union's and the shop's settlement thresholds must be met, usually 100 CNY.
    SETTLEMENT_UNION_THRESHOLD_FEN: int(10_000),
    SETTLEMENT_SHOP_THRESHOLD_FEN: int(10_000),
    VERIFICATION_SLA_INDIVIDUAL_WORKING_DAYS: int(3),
    VERIFICATION_SLA_ENTERPRISE_WORKING_DAYS: int(5),
    VERIFICATION_RESUBMIT_WINDOW_DAYS: int(7),
    // Partial JSON over DEFAULT_DEPOSIT_POLICY, see domain/deposit-policy.ts (parseDepositPolicy).
    DEPOSIT_POLICY_JSON: z.string().optional(),
    // Partial JSON over DEFAULT_FULFILMENT_POLICY, see domain/fulfilment.ts (parseFulfilmentPolicy).
    FULFILMENT_POLICY_JSON: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV !== 'production') return;
    if (c.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'set a real secret in production' });
    }
    if (c.PII_ENCRYPTION_KEY === DEV_PII_KEY) {
      ctx.addIssue({ code: 'custom', path: ['PII_ENCRYPTION_KEY'], message: 'set a real key in production' });
    }
    if (c.PLATFORM_CALLBACK_SECRET === DEV_CALLBACK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['PLATFORM_CALLBACK_SECRET'], message: 'set a real secret in production' });
    }
    if (c.IDENTITY_HASH_KEY === DEV_IDENTITY_HASH_KEY) {
      ctx.addIssue({ code: 'custom', path: ['IDENTITY_HASH_KEY'], message: 'set a real key in production' });
    }
    if (c.PARTNER_SECRETS_KEY === DEV_PARTNER_SECRETS_KEY) {
      ctx.addIssue({ code: 'custom', path: ['PARTNER_SECRETS_KEY'], message: 'set a real key in production' });
    }
    if (c.YOUZAN_APP_SECRET === DEV_YOUZAN_APP_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['YOUZAN_APP_SECRET'], message: 'set a real secret in production' });
    }
    if (!c.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'production needs PostgreSQL' });
    }
  });

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings mean "unset", as in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
