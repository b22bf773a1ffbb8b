import { createSecurityEvents } from '../../db/repositories/security-events';
import { createTestDb, type TestDb } from '../support/db';

describe('security events: counted per address, kind and minute', () => {
  let t: TestDb;
  const errors: unknown[] = [];
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const at = (iso: string) => new Date(iso);
  const rows = () => t.db('security_events').orderBy(['minute', 'kind', 'client_address']).select('minute', 'client_address', 'kind', 'count');

  test('counts add up across flushes; a new minute is a new row; beyond maxPending addresses go under "other"', async () => {
    // A flush interval no test waits for: flushes are explicit here.
    const events = createSecurityEvents(t.db, { flushMs: 60_000, maxPending: 2, onError: (err) => errors.push(err) });
    events.count('10.0.0.1', 'unauthenticated', at('2026-12-01T08:00:01Z'));
    events.count('10.0.0.1', 'unauthenticated', at('2026-12-01T08:00:59.999Z'));
    events.count('10.0.0.2', 'rate_limited', at('2026-12-01T08:00:30Z'));
    // The map is full: a third counter goes under 'other', and so does a fourth.
    events.count('10.0.0.3', 'unauthenticated', at('2026-12-01T08:00:31Z'));
    events.count('10.0.0.4', 'unauthenticated', at('2026-12-01T08:00:32Z'));
    // An existing counter still counts under its own address.
    events.count('10.0.0.1', 'unauthenticated', at('2026-12-01T08:00:40Z'));
    await events.flush();
    events.count('10.0.0.1', 'unauthenticated', at('2026-12-01T08:00:45Z'));
    events.count('10.0.0.1', 'unauthenticated', at('2026-12-01T08:01:00Z'));
    await events.stop();
    await events.flush();

    expect(errors).toEqual([]);
    expect((await rows()).map((r) => [new Date(r.minute).toISOString(), r.client_address, r.kind, Number(r.count)])).toEqual([
      ['2026-12-01T08:00:00.000Z', '10.0.0.2', 'rate_limited', 1],
      ['2026-12-01T08:00:00.000Z', '10.0.0.1', 'unauthenticated', 4],
      ['2026-12-01T08:00:00.000Z', 'other', 'unauthenticated', 2],
      ['2026-12-01T08:01:00.000Z', '10.0.0.1', 'unauthenticated', 1],
    ]);
  });
});
