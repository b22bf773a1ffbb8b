/**
 * Routes under /v1 that steer or inspect the sandbox rather than stand in for the
 * platform. They are left out of the call log and exempt from injected latency and
 * failures: otherwise `errorRate: 1` could never be switched off again.
 */
export const SETTINGS_PATH = '/_settings';
export const CALLS_PATH = '/calls';

export function isControlPath(path: string): boolean {
  const normalised = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return normalised === SETTINGS_PATH || normalised === CALLS_PATH;
}
