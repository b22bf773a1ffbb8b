import { createWorkingDayCalendar } from '../../domain/calendar';
import { loadConfig } from '../../config/config';
import { activityDepsFrom, calendarShortfall, createActivities, mergeActivityGroups, reviewPolicyFrom } from '../../worker/dependencies';
import { knex } from 'knex';

describe('worker dependencies', () => {
  test.each([
    ['mid-year: the loaded year covers the next 60 days', '2026-06-01T00:00:00Z', undefined, undefined],
    ['late November: the next 60 days reach into an unloaded year', '2026-11-22T00:00:00Z', undefined, '2027-01-21'],
    [
      'late November with next year loaded from an extra file',
      '2026-11-22T00:00:00Z',
      { holidays: { '2027-01-01': '元旦' }, workdays: {} },
      undefined,
    ],
  ])('%s', (_name, now, extra, expected) => {
    expect(calendarShortfall(createWorkingDayCalendar(extra), new Date(now))).toBe(expected);
  });

  test('the review policy comes from config, with docs/rules.md defaults', () => {
    expect(reviewPolicyFrom(loadConfig({}))).toEqual({ slaWorkingDays: { individual: 3, enterprise: 5 }, resubmitWindowDays: 7 });
    expect(
      reviewPolicyFrom(loadConfig({ VERIFICATION_SLA_ENTERPRISE_WORKING_DAYS: '4', VERIFICATION_RESUBMIT_WINDOW_DAYS: '10' })),
    ).toEqual({ slaWorkingDays: { individual: 3, enterprise: 4 }, resubmitWindowDays: 10 });
  });

  test('activity names are unique across processes: a clash is refused, not silently overridden', async () => {
    // Never connected: building the activities touches no database. (An embedded database
    // destroyed before its lazy start finishes would load its module after this suite ended.)
    const db = knex({ client: 'pg' });
    try {
      const activities = createActivities(activityDepsFrom(loadConfig({}), db));
      expect(activities).toHaveProperty('openCase');
      expect(activities).toHaveProperty('openViolationCase');
      expect(activities).toHaveProperty('refreshYouzanToken');
    } finally {
      await db.destroy();
    }
    expect(() => mergeActivityGroups({ openCase: 1 }, { other: 2 }, { openCase: 3 })).toThrow('two activity groups define openCase');
  });

  test('production refuses the development secrets and the embedded database', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET[\s\S]*PII_ENCRYPTION_KEY[\s\S]*IDENTITY_HASH_KEY[\s\S]*PARTNER_SECRETS_KEY[\s\S]*YOUZAN_APP_SECRET[\s\S]*DATABASE_URL/);
  });

  test('partner settings come from config: the Youzan redirect, the secrets key and a refresh lead of one day by default', async () => {
    const db = knex({ client: 'pg' });
    try {
      const deps = activityDepsFrom(loadConfig({}), db);
      expect(deps.partnerSettings).toEqual({ youzanRedirectUri: 'http://127.0.0.1:3000/v1/bindings/oauth/youzan/callback', secretsKey: expect.any(String), refreshLeadSeconds: 86_400 });
      expect(Buffer.from(deps.partnerSettings.secretsKey, 'base64')).toHaveLength(32);
      expect(activityDepsFrom(loadConfig({ PARTNER_TOKEN_REFRESH_LEAD_SECONDS: '3600' }), db).partnerSettings.refreshLeadSeconds).toBe(3600);
    } finally {
      await db.destroy();
    }
  });
});
