import { lifetimeProblem } from '../../api/auth';
import { loadConfig } from '../../config/config';

/** The lifetime rule alone, at and one second either side of each boundary. */
describe('token lifetime caps by role', () => {
  const settings = {
    lifetimes: { JWT_MAX_LIFETIME_MERCHANT_SECONDS: 86_400, JWT_MAX_LIFETIME_STAFF_SECONDS: 43_200, JWT_MAX_LIFETIME_ADMIN_SECONDS: 3_600 },
    clockSkewSeconds: 60,
  };
  const now = 1_800_000_000;

  test.each([
    ['admin', 3_600, undefined],
    ['admin', 3_601, /3600 s allowed for role admin/],
    ['ops', 43_200, undefined],
    ['reviewer', 43_201, /43200 s allowed for role reviewer/],
    ['finance', 43_201, /43200 s allowed for role finance/],
    ['merchant', 86_400, undefined],
    ['merchant', 86_401, /86400 s allowed for role merchant/],
    ['admin', 100 * 365 * 86_400, /allowed for role admin/],
  ] as const)('%s for %i s', (role, lifetime, problem) => {
    const found = lifetimeProblem(role, { iat: now, exp: now + lifetime }, settings, now);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  test.each([
    ['60 s ahead (the skew)', 60, undefined],
    ['61 s ahead', 61, /in the future/],
  ])('an iat %s', (_what, ahead, problem) => {
    const found = lifetimeProblem('admin', { iat: now + ahead, exp: now + ahead + 600 }, settings, now);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  test('the caps are config, and a cap of zero is refused at start', () => {
    expect(loadConfig({ JWT_MAX_LIFETIME_ADMIN_SECONDS: '900' }).JWT_MAX_LIFETIME_ADMIN_SECONDS).toBe(900);
    expect(() => loadConfig({ JWT_MAX_LIFETIME_ADMIN_SECONDS: '0' })).toThrow(/JWT_MAX_LIFETIME_ADMIN_SECONDS/);
    expect(loadConfig({})).toMatchObject({
      JWT_MAX_LIFETIME_MERCHANT_SECONDS: 86_400,
      JWT_MAX_LIFETIME_STAFF_SECONDS: 43_200,
      JWT_MAX_LIFETIME_ADMIN_SECONDS: 3_600,
      JWT_CLOCK_SKEW_SECONDS: 60,
    });
  });
});
