import request from 'supertest';
import { eventually, individualRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, staff, type Api } from './http';

const FLOOD = 1_000;
const PER_ADDRESS = 100;

/**
 * An anonymous flood is refused cheaply: limited by client address before the token is
 * checked or a body read, and counted in security_events (one row per address, kind and
 * minute), never one audit row per request.
 */
describe(`a flood of ${FLOOD} unauthenticated POSTs (API_ADDRESS_RATE_LIMIT_PER_MINUTE=${PER_ADDRESS})`, () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_ADDRESS_RATE_LIMIT_PER_MINUTE: String(PER_ADDRESS), SECURITY_EVENTS_FLUSH_MS: '100' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const count = async (table: string) => Number((await stack.db(table).count({ n: '*' }).first())?.n);

  test('a forbidden request is a security event of its caller and still an audit row: a known actor tried it', async () => {
    const res = await api.start(staff.finance, individualRequest('m-flood-403'));
    expect(res.status).toBe(403);
    expect(await api.auditRowOf(res.headers['x-request-id'])).toMatchObject({ actor_sub: 'fang', status_code: 403, outcome: 'refused' });
    await eventually(
      () => stack.db('security_events').where({ kind: 'forbidden' }).sum({ n: 'count' }).first(),
      (row) => Number(row?.n) === 1,
    );
  });

  test('most are 429 after the limit, the audit log does not grow, security_events holds a few rows with the total', async () => {
    const auditBefore = await count('audit_log');
    const eventsBefore = Number((await stack.db('security_events').sum({ n: 'count' }).first())?.n ?? 0);
    const statuses: number[] = [];
    // Ten clients at a time, as a small flood from one address would come.
    for (let i = 0; i < FLOOD; i += 10) {
      const batch = Array.from({ length: 10 }, () => request(stack.app).post('/v1/verifications').send(individualRequest('m-flood')));
      for (const res of await Promise.all(batch)) statuses.push(res.status);
    }
    const tally = (s: number) => statuses.filter((x) => x === s).length;
    expect(tally(401) + tally(429)).toBe(FLOOD);
    expect(tally(401)).toBeLessThanOrEqual(PER_ADDRESS);
    expect(tally(429)).toBeGreaterThanOrEqual(FLOOD - PER_ADDRESS);

    expect((await count('audit_log')) - auditBefore).toBe(0);
    const events = await eventually(
      () => stack.db('security_events').select('kind', 'client_address', 'minute', 'count'),
      (rows) => rows.reduce((sum, r) => sum + Number(r.count), 0) === eventsBefore + FLOOD,
    );
    // One address, three kinds (the forbidden request before), over at most a few minutes.
    expect(events.length).toBeLessThanOrEqual(3 * 3);
    const byKind = (kind: string) => events.filter((r) => r.kind === kind).reduce((sum, r) => sum + Number(r.count), 0);
    expect(byKind('unauthenticated')).toBe(tally(401));
    expect(byKind('rate_limited')).toBe(tally(429));
    expect(new Set(events.map((r) => r.client_address)).size).toBe(1);
    expect(await stack.db('verification_cases').where({ merchant_id: 'm-flood' })).toHaveLength(0);
  });
});
