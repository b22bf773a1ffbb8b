import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { AppConfig } from './config';

/**
 * OpenTelemetry tracing for one process (the API or the worker).
 *
 * Spans are always made, so every log line written inside a request, a workflow task or an
 * activity carries its trace id (config/logger.ts), and a caller's `traceparent` is honoured.
 * They leave the process only when OTEL_TRACES_EXPORTER says where: `none` (the default)
 * drops each span as it ends, at the cost of a few objects per request.
 */
export interface Tracing {
  tracer: Tracer;
  /** Where finished spans go; the worker also hands it to the workflow span sink. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes what is buffered and unregisters the provider. */
  shutdown(): Promise<void>;
}

export type TracingConfig = Pick<AppConfig, 'OTEL_TRACES_EXPORTER' | 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>;

function processorFor(config: TracingConfig, exporter?: SpanExporter): SpanProcessor {
  // A test passes its own (in-memory) exporter and reads spans at once.
  if (exporter) return new SimpleSpanProcessor(exporter);
  switch (config.OTEL_TRACES_EXPORTER) {
    case 'none':
      return new NoopSpanProcessor();
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'otlp':
      return new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` }),
      );
  }
}

/** Registers the process's tracer provider (global, once per process) and returns its parts. */
export function startTracing(config: TracingConfig, component: string, options: { exporter?: SpanExporter } = {}): Tracing {
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME, 'service.component': component });
  const spanProcessor = processorFor(config, options.exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // AsyncLocalStorage context and W3C trace-context propagation (traceparent in, and out
  // through the Temporal headers).
  provider.register();
  return {
    tracer: trace.getTracer('merchant-ops'),
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
