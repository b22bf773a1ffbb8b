import { context, isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { AppConfig } from './config';

/**
 * Paths whose values are personal data or secrets. pino replaces them before a line
 * is written, whatever code logged the object.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'idNumber',
  'uscc',
  'accountNumber',
  '*.idNumber',
  '*.uscc',
  '*.accountNumber',
  '*.*.idNumber',
  '*.*.accountNumber',
  'body',
  '*.body',
];

/**
 * A request's span, pinned on its logger (api/tracing.ts): pino-http writes a request's last
 * line from a 'finish' event, which runs outside the request's async context. Children of
 * that logger inherit it (pino children are prototype copies).
 */
export const LOGGER_SPAN = Symbol('merchant-ops.span');

/**
 * The trace and span of the code writing the line (a request, a workflow task, an activity),
 * so one search finds every line of one trace; none outside a span. Read through the
 * OpenTelemetry API, which answers nothing until config/tracing.ts registers a provider.
 */
export function traceFields(_obj?: object, _level?: number, logger?: object): { trace_id?: string; span_id?: string } {
  const span =
    trace.getSpan(context.active())?.spanContext() ??
    (logger as { [LOGGER_SPAN]?: SpanContext } | undefined)?.[LOGGER_SPAN];
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

export function createLogger(
  config: Pick<AppConfig, 'LOG_LEVEL' | 'LOG_FORMAT'>,
  component: string,
  // Tests read the lines; processes write to stdout.
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level: config.LOG_LEVEL,
    base: { component },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
    ...(config.LOG_FORMAT === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
