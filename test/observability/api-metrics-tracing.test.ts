import { Writable } from 'node:stream';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createApp } from '../../api/app';
import { loadConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { startTracing, type Tracing } from '../../config/tracing';
import { piiVaultFrom } from '../../security/pii';
import { signToken } from '../../security/tokens';
import { createTestDb, type TestDb } from '../support/db';

/** Every JSON line a logger writes. */
function captureLines(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('the API: /metrics and traces', () => {
  let testDb: TestDb;
  let config: AppConfig;
  let temporal: Client;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();

  beforeAll(async () => {
    testDb = await createTestDb();
    config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info' });
    // Never dialled: the requests below stop before any workflow call.
    temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    tracing = startTracing(config, 'api', { exporter });
  });
  afterAll(async () => {
    await tracing.shutdown();
    await testDb.destroy();
  });

  const appWith = (overrides: Partial<AppConfig>, stream: Writable) =>
    createApp({
      config: { ...config, ...overrides },
      db: testDb.db,
      temporal,
      logger: createLogger(config, 'api', stream),
      vault: piiVaultFrom(config),
    });
  const token = () =>
    signToken({ secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }, { sub: 'olga', role: 'ops' });

  test('GET /metrics answers request durations by route template, method and status', async () => {
    const { stream } = captureLines();
    const app = appWith({}, stream);
    const auth = `Bearer ${await token()}`;
    await request(app).get('/v1/verifications/vc_doesnotexist01').set('Authorization', auth).expect(404);
    await request(app).get('/v1/verifications/vc_anothercase01').set('Authorization', auth).expect(404);
    await request(app).get('/v1/verifications/vc_xxxxxxxxxx01').expect(401);
    await request(app).get('/no/such/route').expect(404);

    const scrape = await request(app).get('/metrics').expect(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
    const text = scrape.text;
    // Two different case ids, one series: the template, not the path.
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/v1/verifications/:id",status="404"} 2');
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/verifications\/:id",status="404"\} \d/);
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1');
    // Refused before routing (the token check is a /v1 middleware): no route, no id.
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="unmatched",status="401"} 1');
    expect(text).not.toContain('vc_doesnotexist01');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  test('with API_METRICS_PORT set, the API port does not serve /metrics', async () => {
    const { stream } = captureLines();
    await request(appWith({ API_METRICS_PORT: 0 }, stream)).get('/metrics').expect(404);
  });

  test('a request is one server span named by its route, and every line it logs carries its trace id', async () => {
    exporter.reset();
    const { lines, stream } = captureLines();
    const app = appWith({}, stream);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(app)
      .get('/v1/verifications/vc_tracedcase0001')
      .set('Authorization', `Bearer ${await token()}`)
      .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
      .expect(404);

    const [span] = exporter.getFinishedSpans().filter((s) => s.name.startsWith('GET '));
    expect(span?.name).toBe('GET /v1/verifications/:id');
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.attributes['http.response.status_code']).toBe(404);
    const requestLines = lines.filter((l) => (l.req as { url?: string } | undefined)?.url === '/v1/verifications/vc_tracedcase0001');
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line).toMatchObject({ trace_id: traceId, span_id: span?.spanContext().spanId });
  });

  test('tracing exports nothing unless OTEL_TRACES_EXPORTER says where', () => {
    expect(loadConfig({}).OTEL_TRACES_EXPORTER).toBe('none');
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    });
  });
});
