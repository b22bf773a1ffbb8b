import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The platform signs each callback it sends us: HMAC-SHA256 under the shared secret over
 * `<timestamp>.<raw body>`, hex, in `X-Platform-Signature: sha256=<hex>`, with the Unix time
 * in seconds in `X-Platform-Timestamp`. The timestamp is signed too, so an old callback
 * cannot be replayed with a fresh one.
 */
export const SIGNATURE_HEADER = 'X-Platform-Signature';
export const TIMESTAMP_HEADER = 'X-Platform-Timestamp';

export function signPlatformCallback(secret: string, timestamp: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  return `sha256=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export interface SignatureInput {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  nowMs: number;
  /** How far the timestamp may lie from now, either way (clock skew and delivery). */
  toleranceSeconds: number;
}

export function verifyPlatformCallback(input: SignatureInput): SignatureCheck {
  if (!input.timestamp || !input.signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(input.timestamp) || !/^sha256=[0-9a-f]{64}$/.test(input.signature)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(input.timestamp);
  if (Math.abs(input.nowMs / 1000 - timestamp) > input.toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signPlatformCallback(input.secret, timestamp, input.rawBody));
  const given = Buffer.from(input.signature);
  // Both are `sha256=` + 64 hex characters here, so the lengths match as timingSafeEqual needs.
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
