import type { NotificationInput } from '../types';
import type { IdempotencyStore } from './idempotency';

export interface SandboxSettings {
  latencyMs: number;
  errorRate: number;
}

/** One request the sandbox platform received, as `GET /v1/calls` shows it. */
export interface CallRecord {
  seq: number;
  /** ISO-8601 instant the request arrived. */
  at: string;
  method: string;
  path: string;
  idempotencyKey: string | null;
  body: unknown;
  status: number;
  replayed: boolean;
}

export interface SandboxNotification extends NotificationInput {
  notificationId: string;
  acceptedAt: string;
}

/** Everything the sandbox remembers; exposed so tests can look behind the HTTP API. */
export interface SandboxState {
  settings: SandboxSettings;
  calls: CallRecord[];
  nextCallSeq: number;
  idempotency: IdempotencyStore;
  notifications: SandboxNotification[];
}

export function createSandboxState(settings: SandboxSettings): SandboxState {
  return { settings: { ...settings }, calls: [], nextCallSeq: 1, idempotency: new Map(), notifications: [] };
}
