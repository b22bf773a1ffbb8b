/**
 * Types of the platform API as our code sees it. Kept free of runtime imports so
 * activities (and workflow `.defs.ts` files) can `import type` them.
 */

export type NotificationRecipient = 'supervisor' | 'merchant' | 'ops';

export interface NotificationInput {
  recipient: NotificationRecipient;
  merchantId: string;
  template: string;
  data?: Record<string, unknown>;
}

export interface NotificationAccepted {
  notificationId: string;
  /** ISO-8601 instant at which the platform accepted the notification. */
  acceptedAt: string;
}

export interface PlatformClient {
  /**
   * `idempotencyKey` must come from the business request (e.g. `notify:<merchant>:<case>`),
   * so a retried activity replays the first call instead of sending a second message.
   */
  notify(input: NotificationInput, idempotencyKey: string): Promise<NotificationAccepted>;
}

export interface PlatformClientOptions {
  baseUrl: string;
  token: string;
  /** Per request, covering connect, response and body; a timeout is retryable. */
  timeoutMs: number;
  fetchImpl?: typeof fetch;
}

/** `details[0]` of a `PlatformRejected` failure. */
export interface PlatformRejectionDetails {
  status: number;
  body: unknown;
}

/** `details[0]` of a `PlatformUnavailable` failure caused by an HTTP status (absent for network errors). */
export interface PlatformUnavailableDetails {
  status: number;
}
