import { signPlatformCallback, verifyPlatformCallback } from '../../security/platform-signature';

const SECRET = 'a-shared-secret-of-at-least-32-characters';
const body = Buffer.from('{"paymentId":"pay_1","shopId":"shop-a","status":"confirmed"}');
const NOW = 1_790_000_000_000;
const at = NOW / 1000;

const check = (over: Partial<Parameters<typeof verifyPlatformCallback>[0]>) =>
  verifyPlatformCallback({ secret: SECRET, timestamp: String(at), signature: signPlatformCallback(SECRET, at, body), rawBody: body, nowMs: NOW, toleranceSeconds: 300, ...over });

describe('payment callback signatures (HMAC-SHA256 over "<timestamp>.<raw body>")', () => {
  test.each<[string, Partial<Parameters<typeof verifyPlatformCallback>[0]>, ReturnType<typeof verifyPlatformCallback>]>([
    ['as the platform signed it', {}, { ok: true }],
    ['exactly at the tolerance, late', { nowMs: NOW + 300_000 }, { ok: true }],
    ['one second past the tolerance, late', { nowMs: NOW + 301_000 }, { ok: false, reason: 'stale' }],
    ['one second past the tolerance, early', { nowMs: NOW - 301_000 }, { ok: false, reason: 'stale' }],
    ['another secret', { secret: `${SECRET}x` }, { ok: false, reason: 'mismatch' }],
    ['one byte of the body changed', { rawBody: Buffer.from(body.toString().replace('confirmed', 'confirmee')) }, { ok: false, reason: 'mismatch' }],
    ['a fresh timestamp on an old signature', { timestamp: String(at + 1) }, { ok: false, reason: 'mismatch' }],
    ['no signature', { signature: undefined }, { ok: false, reason: 'missing' }],
    ['no timestamp', { timestamp: undefined }, { ok: false, reason: 'missing' }],
    ['a signature without its scheme', { signature: signPlatformCallback(SECRET, at, body).slice('sha256='.length) }, { ok: false, reason: 'malformed' }],
    ['a timestamp that is not a number', { timestamp: '17e8' }, { ok: false, reason: 'malformed' }],
  ])('%s', (_name, over, expected) => {
    expect(check(over)).toEqual(expected);
  });

  test('the signature is the hex HMAC the header names', () => {
    expect(signPlatformCallback(SECRET, at, body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});
