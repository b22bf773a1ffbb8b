import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { NotificationInput, PlatformRejectionDetails } from '../../platform/types';
import { aNotification, failureOf, TOKEN } from './sandbox-fixtures';

describe('platform client against a running sandbox', () => {
  let sandbox: RunningSandbox;
  const client = (overrides: { token?: string; timeoutMs?: number } = {}) =>
    createPlatformClient({ baseUrl: sandbox.url, token: overrides.token ?? TOKEN, timeoutMs: overrides.timeoutMs ?? 2_000 });

  beforeAll(async () => {
    sandbox = await startSandboxPlatform({ token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    Object.assign(sandbox.state.settings, { latencyMs: 0, errorRate: 0 });
  });

  it('listens on an ephemeral port of 127.0.0.1', () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.url).not.toMatch(/:0$/);
  });

  it('sends a notification and returns the id the platform stored', async () => {
    const input = aNotification({ merchantId: 'c-ok' });
    const accepted = await client().notify(input, 'notify:c-ok:1');
    expect(sandbox.state.notifications.filter((n) => n.merchantId === 'c-ok')).toEqual([{ ...input, ...accepted }]);
    expect(sandbox.state.calls.find((c) => c.idempotencyKey === 'notify:c-ok:1')).toMatchObject({ method: 'POST', path: '/v1/notifications', status: 201 });
  });

  it('is idempotent when an activity retries with the same key', async () => {
    const input = aNotification({ merchantId: 'c-retry' });
    const first = await client().notify(input, 'notify:c-retry:1');
    const second = await client().notify(input, 'notify:c-retry:1');
    expect(second).toEqual(first);
    expect(sandbox.state.notifications.filter((n) => n.merchantId === 'c-retry')).toHaveLength(1);
  });

  it('turns a 503 into a retryable PlatformUnavailable, with nothing sent', async () => {
    sandbox.state.settings.errorRate = 1;
    const failure = await failureOf(client().notify(aNotification({ merchantId: 'c-503' }), 'notify:c-503:1'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('POST /v1/notifications failed with 503 (sandbox_unavailable)');
    expect(sandbox.state.notifications.filter((n) => n.merchantId === 'c-503')).toHaveLength(0);
  });

  it('turns a 400 into a non-retryable PlatformRejected that carries status and body, but no request data', async () => {
    const invalid = { ...aNotification({ merchantId: 'c-400' }), recipient: 'customer' } as unknown as NotificationInput;
    const failure = await failureOf(client().notify(invalid, 'notify:c-400:1'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('POST /v1/notifications failed with 400 (invalid_request)');
    const details = failure.details?.[0] as PlatformRejectionDetails;
    expect(details.status).toBe(400);
    expect(details.body).toMatchObject({ error: 'invalid_request', issues: [expect.objectContaining({ path: 'recipient' })] });
  });

  it('turns a reused key (422) into a non-retryable PlatformRejected', async () => {
    await client().notify(aNotification({ merchantId: 'c-422' }), 'notify:c-422:1');
    const failure = await failureOf(client().notify(aNotification({ merchantId: 'c-422', template: 'other' }), 'notify:c-422:1'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details?.[0]).toEqual({ status: 422, body: { error: 'idempotency_key_reused' } });
  });

  it('turns a wrong token (401) into a non-retryable PlatformRejected', async () => {
    const failure = await failureOf(client({ token: 'wrong' }).notify(aNotification(), 'notify:c-401:1'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('POST /v1/notifications failed with 401 (unauthorized)');
  });

  it('turns a timeout into a retryable PlatformUnavailable; the retry replays what the platform did meanwhile', async () => {
    sandbox.state.settings.latencyMs = 300;
    const input = aNotification({ merchantId: 'c-timeout' });
    const failure = await failureOf(client({ timeoutMs: 50 }).notify(input, 'notify:c-timeout:1'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('POST /v1/notifications timed out after 50 ms');

    // The platform finishes the request the client gave up on: the reason keys exist.
    // Waited for, not slept on: a loaded machine may take longer than the latency.
    while (sandbox.state.calls.filter((c) => c.idempotencyKey === 'notify:c-timeout:1').length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sandbox.state.settings.latencyMs = 0;
    expect(sandbox.state.notifications.filter((n) => n.merchantId === 'c-timeout')).toHaveLength(1);
    const retried = await client().notify(input, 'notify:c-timeout:1');
    expect(retried.notificationId).toBe(sandbox.state.notifications.find((n) => n.merchantId === 'c-timeout')?.notificationId);
    expect(sandbox.state.notifications.filter((n) => n.merchantId === 'c-timeout')).toHaveLength(1);
    expect(sandbox.state.calls.filter((c) => c.idempotencyKey === 'notify:c-timeout:1').map((c) => [c.status, c.replayed])).toEqual([
      [201, false],
      [201, true],
    ]);
  });
});

describe('platform client error mapping', () => {
  const respondWith = (status: number, body: string): typeof fetch => async () => new Response(body, { status });
  const clientAnswering = (fetchImpl: typeof fetch) =>
    createPlatformClient({ baseUrl: 'http://platform.invalid/', token: TOKEN, timeoutMs: 1_000, fetchImpl });

  it.each([408, 429, 500, 502, 503, 504])('retries a %i as PlatformUnavailable', async (status) => {
    const failure = await failureOf(clientAnswering(respondWith(status, '{}')).notify(aNotification(), 'k'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(`POST /v1/notifications failed with ${status}`);
  });

  it.each([400, 401, 403, 404, 409, 422])('gives up on a %i as PlatformRejected', async (status) => {
    const failure = await failureOf(clientAnswering(respondWith(status, 'not json')).notify(aNotification(), 'k'));
    expect(failure.type).toBe('PlatformRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details?.[0]).toEqual({ status, body: 'not json' });
  });

  it('never puts request data into the failure message', async () => {
    const input = aNotification({ merchantId: 'm-secret', data: { phone: '13800000000' } });
    const failure = await failureOf(clientAnswering(respondWith(400, '{"error":"13800000000 is not allowed"}')).notify(input, 'k'));
    expect(failure.message).toBe('POST /v1/notifications failed with 400');
    expect(failure.message).not.toContain('13800000000');
    expect(failure.message).not.toContain('m-secret');
  });

  it('sends token, idempotency key and JSON body to the base URL without a double slash', async () => {
    const seen: { url: string; init?: RequestInit }[] = [];
    const fetchImpl: typeof fetch = async (url, init) => {
      seen.push({ url: String(url), init });
      return new Response('{"notificationId":"ntf_1","acceptedAt":"2025-01-01T00:00:00.000Z"}', { status: 201 });
    };
    const input = aNotification();
    await clientAnswering(fetchImpl).notify(input, 'notify:m-1001:1');
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('http://platform.invalid/v1/notifications');
    expect(seen[0].init?.method).toBe('POST');
    expect(seen[0].init?.headers).toMatchObject({
      Authorization: `Bearer ${TOKEN}`,
      'Idempotency-Key': 'notify:m-1001:1',
      'Content-Type': 'application/json',
    });
    expect(JSON.parse(String(seen[0].init?.body))).toEqual(input);
  });

  it('retries a 2xx whose body is not JSON: the same key will replay a readable answer', async () => {
    const failure = await failureOf(clientAnswering(respondWith(201, '<html>')).notify(aNotification(), 'k'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
  });

  it('retries when nothing listens (connection refused)', async () => {
    const closed = await startSandboxPlatform({ token: TOKEN, port: 0 });
    await closed.close();
    const failure = await failureOf(createPlatformClient({ baseUrl: closed.url, token: TOKEN, timeoutMs: 1_000 }).notify(aNotification(), 'k'));
    expect(failure.type).toBe('PlatformUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('POST /v1/notifications failed before a response: ECONNREFUSED');
  });
});
