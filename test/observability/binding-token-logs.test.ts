import { Writable } from 'node:stream';
import request from 'supertest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createPartnerSecrets } from '../../db/repositories/partner-secrets';
import { createPartnerGateway } from '../../platform/partners/client';
import { activityDepsFrom, createActivities } from '../../worker/dependencies';
import { temporalLoggerFor } from '../../worker/runtime';
import { bindingApi, MERCHANT_NAME, merchantClaims } from '../support/bindings';
import { residentIdOf } from '../support/fixtures';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';

/**
 * The worker's own log lines around a binding's token calls carry no token, no code and no
 * app secret. The activities run as the worker builds them (createActivities), over the HTTP
 * partner gateway against the sandbox, in the SDK's activity runner with the logger
 * worker/main.ts installs (pino through temporalLoggerFor) at debug level: the SDK's
 * started / completed / failed lines, with the failure each carries, are the lines read.
 */
jest.setTimeout(180_000);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({}, { partners: 'sandbox' });
});
afterAll(async () => {
  await stack?.teardown();
});

const PLATFORM_AUTH = { Authorization: 'Bearer test-platform-token' };
const sandbox = () => request(stack.sandbox.url);

test("a binding's refreshes and code exchange, succeeding and failing, leave no token, code or app secret in the worker's log lines", async () => {
  const merchantId = 'm-bind-logs';
  const storeId = 'yz-logs-1';
  await openShop(stack, merchantId);
  await sandbox().put(`/partners/_stores/youzan/${storeId}`).send({ storeName: 'yz', entity: { kind: 'individual', name: MERCHANT_NAME, idNumber: residentIdOf(merchantId) } }).expect(200);
  const api = bindingApi(stack);
  const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId, level: 'basic' });
  expect(started.status).toBe(201);
  const bindingId = started.body.bindingId as string;
  const consent = await fetch(`${started.body.authorizeUrl}&store_id=${encodeURIComponent(storeId)}`, { redirect: 'manual' });
  const back = new URL(consent.headers.get('location')!);
  const code = back.searchParams.get('code')!;
  expect((await api.callback(Object.fromEntries(back.searchParams))).body).toMatchObject({ status: 'bound' });

  const vault = createPartnerSecrets(stack.db, stack.config.PARTNER_SECRETS_KEY);
  const secrets = new Set<string>([code, stack.config.YOUZAN_APP_SECRET, stack.config.PARTNER_SECRETS_KEY]);
  /** The binding's live tokens, opened through the vault and remembered to look for. */
  const liveTokens = async () => {
    const rows = await stack.db('partner_secrets').where({ binding_id: bindingId }).whereNull('retired_at');
    const opened: Record<string, string> = {};
    for (const row of rows) {
      const clear = await vault.open(row.id);
      if (clear) {
        secrets.add(clear);
        opened[row.kind] = row.id;
      }
    }
    return opened as { access_token: string; refresh_token: string };
  };

  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = temporalLoggerFor(createLogger(loadConfig({ LOG_LEVEL: 'debug' }), 'worker', stream));
  const workflowExecution = { workflowId: `binding:youzan:${storeId}`, runId: 'run-of-the-log-test' };
  const deps = activityDepsFrom(stack.config, stack.db, stack.env.client);
  /** What each failure would carry into the workflow's history: its message and details. */
  const failures: string[] = [];
  const run = <K extends 'refreshYouzanToken' | 'exchangeYouzanCode'>(activities: ReturnType<typeof createActivities>, name: K, input: Parameters<ReturnType<typeof createActivities>[K]>[0]) =>
    new MockActivityEnvironment({ activityType: name, workflowExecution }, { logger }).run(activities[name] as (i: typeof input) => Promise<unknown>, input).catch((err: unknown) => {
      const { message, details } = err as { message?: string; details?: unknown };
      failures.push(JSON.stringify({ message, details }));
      throw err;
    });
  const worker = createActivities(deps);

  // A refresh that works: both tokens rotate.
  const first = await liveTokens();
  await expect(run(worker, 'refreshYouzanToken', { bindingId, refreshSecretId: first.refresh_token })).resolves.toMatchObject({ refreshSecretId: expect.any(String) });
  const second = await liveTokens();
  expect(second.refresh_token).not.toBe(first.refresh_token);

  // The partner is down: a retryable failure.
  await sandbox().put('/v1/_settings').set(PLATFORM_AUTH).send({ errorRate: 1 }).expect(200);
  await expect(run(worker, 'refreshYouzanToken', { bindingId, refreshSecretId: second.refresh_token })).rejects.toMatchObject({ type: 'PlatformUnavailable' });
  await sandbox().put('/v1/_settings').set(PLATFORM_AUTH).send({ errorRate: 0 }).expect(200);

  // A partner whose refusal echoes what it was sent: the words it answers with stay out of the lines too.
  const echoing = createActivities({
    ...deps,
    partners: createPartnerGateway({
      baseUrl: stack.config.PARTNER_BASE_URL,
      timeoutMs: 5_000,
      youzan: { appId: stack.config.YOUZAN_APP_ID, appSecret: stack.config.YOUZAN_APP_SECRET },
      fetchImpl: async (_url, init) => {
        const sent = String(init?.body ?? '');
        return new Response(JSON.stringify({ error: 'invalid_request', error_description: `not accepted: ${decodeURIComponent(sent)}`, echoed: { authorization: (init?.headers as Record<string, string>).Authorization } }), {
          status: 400,
          headers: { 'Content-Type': 'application/json' },
        });
      },
    }),
  });
  await expect(run(echoing, 'refreshYouzanToken', { bindingId, refreshSecretId: second.refresh_token })).rejects.toMatchObject({ type: 'PlatformRejected' });

  // The merchant revoked the grant on Youzan's side: refused for good.
  await sandbox().post('/partners/_youzan/revocations').send({ storeId }).expect(200);
  await expect(run(worker, 'refreshYouzanToken', { bindingId, refreshSecretId: second.refresh_token })).rejects.toMatchObject({ type: 'PartnerAuthorisationRevoked' });

  // A spent code handed in again: the partner refuses it.
  const codeSecretId = await vault.store(bindingId, 'authorisation_code', code);
  await expect(run(worker, 'exchangeYouzanCode', { bindingId, codeSecretId })).rejects.toMatchObject({ nonRetryable: true });

  // The capture saw the worker's lines, failures with their errors included.
  const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  expect(messages.filter((m) => m === 'Activity started')).toHaveLength(5);
  expect(messages.filter((m) => m === 'Activity completed')).toHaveLength(1);
  expect(messages.filter((m) => m === 'Activity failed')).toHaveLength(4);
  expect(secrets.size).toBeGreaterThanOrEqual(7);
  expect(failures).toHaveLength(4);
  const basic = Buffer.from(`${stack.config.YOUZAN_APP_ID}:${stack.config.YOUZAN_APP_SECRET}`).toString('base64');
  for (const [what, text] of [['log lines', lines.join('\n')], ['failures', failures.join('\n')]] as const) {
    for (const secret of [...secrets, basic]) expect({ [what]: text.includes(secret) }).toEqual({ [what]: false });
  }
  // What the partner's refusal said is kept only as its machine-readable code.
  expect(failures.join('\n')).toContain('invalid_request');
});
