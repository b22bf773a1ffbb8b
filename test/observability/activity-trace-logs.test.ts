import { Writable } from 'node:stream';
import { log } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { startTracing, type Tracing } from '../../config/tracing';
import { temporalLoggerFor } from '../../worker/runtime';
import { tracingWorkerOptions } from '../../worker/worker';

// What the worker installs (worker/main.ts): the SDK's logger written through pino, and the
// activity interceptors of tracingWorkerOptions. An activity's own lines carry its span.
describe('activity logs and traces', () => {
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    tracing = startTracing(loadConfig({}), 'worker', { exporter });
  });
  afterAll(() => tracing.shutdown());

  test('a line an activity logs is JSON with the trace and span of the activity', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = temporalLoggerFor(createLogger(loadConfig({ LOG_LEVEL: 'info' }), 'worker', stream));
    const interceptors = tracingWorkerOptions(tracing).interceptors?.activity ?? [];
    const env = new MockActivityEnvironment({ activityType: 'notifyShop' }, { logger, interceptors });

    await env.run(async () => {
      log.info('shop notified', { shopId: 's-1' });
    });

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('RunActivity:notifyShop');
    const line = lines.find((l) => l.msg === 'shop notified');
    expect(line).toMatchObject({ component: 'worker', source: 'temporal', shopId: 's-1', trace_id: span?.spanContext().traceId });
  });
});
