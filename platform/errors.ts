/**
 * `ApplicationFailure` types thrown by the platform client. Retry policies match on
 * these strings, so they live in one place.
 */
export const PlatformFailureType = {
  /** Network error, timeout, 5xx, 408 or 429: the platform may accept a retry. */
  Unavailable: 'PlatformUnavailable',
  /** Any other non-2xx: the platform refused the request and will refuse it again. */
  Rejected: 'PlatformRejected',
} as const;

export type PlatformFailureType = (typeof PlatformFailureType)[keyof typeof PlatformFailureType];
