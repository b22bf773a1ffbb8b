import pino, { type Logger } from 'pino';
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

export function createLogger(config: Pick<AppConfig, 'LOG_LEVEL' | 'LOG_FORMAT'>, component: string): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { component },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(config.LOG_FORMAT === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  });
}
