import { shanghaiDate } from '../../domain/calendar';
import { eventually } from '../support/fixtures';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectAnsweredAsMissing, merchant, staff, type Api } from './http';

jest.setTimeout(120_000);

const USCC = '91350100M000100Y43';

describe('qualifications API', () => {
  let stack: Stack;
  let api: Api;
  const merchantId = 'm-qual-api';
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
    await openShop(stack, merchantId);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const path = (m: string) => `/v1/merchants/${m}/qualifications`;
  const licence = { kind: 'business_licence', number: USCC, validFrom: '2024-01-01', expiresOn: '2027-12-31' };
  // The final audit row is written as the answer finishes: read until it is there.
  const auditOf = (target: string, count = 1) =>
    eventually(() => stack.db('audit_log').where({ target }).whereNot({ outcome: 'attempted' }).orderBy('id'), (rows) => rows.length >= count, 5_000).catch(() => []);

  test("a merchant records its business licence: only the last four characters of the USCC are kept anywhere; it is pending until ops verify it, then a renewal supersedes it", async () => {
    const first = await api.post(path(merchantId), merchant(merchantId), licence);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ merchantId, shopId: `shop-${merchantId}`, kind: 'business_licence', numberMasked: '****0Y43', status: 'valid', supersededBy: null, supersedes: null, verification: 'pending' });
    expect(JSON.stringify(first.body)).not.toContain(USCC);
    const stored = await stack.db('merchant_qualifications').where({ merchant_id: merchantId });
    expect(JSON.stringify(stored)).not.toContain(USCC.slice(0, 10));
    expect(await auditOf(`qualification:${first.body.qualificationId}`)).toEqual([expect.objectContaining({ action: 'qualification.record', outcome: 'succeeded', status_code: 201 })]);
    expect(JSON.stringify(await stack.db('audit_log').where({ actor_sub: `u-${merchantId}` }))).not.toContain(USCC);

    const verificationPath = (id: string) => `${path(merchantId)}/${id}/verification`;
    expect((await api.post(verificationPath(first.body.qualificationId), merchant(merchantId), { decision: 'verify', reason: 'mine' })).status).toBe(403);
    const verified = await api.post(verificationPath(first.body.qualificationId), staff.ops, { decision: 'verify', reason: 'seen on the register' });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ verification: 'verified', verifiedBy: 'olga', verificationReason: 'seen on the register', supersedes: null });
    expect(await auditOf(`qualification:${first.body.qualificationId}`, 2)).toEqual([
      expect.objectContaining({ action: 'qualification.record' }),
      expect.objectContaining({ action: 'qualification.verify', actor_role: 'ops', outcome: 'succeeded' }),
    ]);
    const again = await api.post(verificationPath(first.body.qualificationId), staff.admin, { decision: 'reject', reason: 'changed my mind' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'qualification_not_pending', verification: 'verified' });
    expect((await api.post(verificationPath('qual_none'), staff.ops, { decision: 'verify', reason: 'x' })).status).toBe(404);

    const renewed = await api.post(path(merchantId), staff.ops, { ...licence, validFrom: '2027-12-01', expiresOn: '2032-12-31' });
    expect(renewed.status).toBe(201);
    expect(renewed.body).toMatchObject({ supersedes: first.body.qualificationId, recordedBy: 'olga', verification: 'verified' });
    expect(await auditOf(`qualification:${renewed.body.qualificationId}`)).toEqual([expect.objectContaining({ action: 'qualification.renew', actor_role: 'ops' })]);

    const listed = await api.get(path(merchantId), merchant(merchantId));
    expect(listed.status).toBe(200);
    const byId = Object.fromEntries((listed.body.items as Array<{ qualificationId: string; supersededBy: string | null }>).map((q) => [q.qualificationId, q.supersededBy]));
    expect(byId).toEqual({ [first.body.qualificationId]: renewed.body.qualificationId, [renewed.body.qualificationId]: null });
  });

  test("a merchant's far-off renewal is pending: it supersedes nothing until verified, and a rejected one never does", async () => {
    const merchantRenewal = await api.post(path(merchantId), merchant(merchantId), { ...licence, validFrom: '2026-01-01', expiresOn: '2055-12-31' });
    expect(merchantRenewal.status).toBe(201);
    expect(merchantRenewal.body).toMatchObject({ verification: 'pending', supersedes: null });
    const current = await stack.db('merchant_qualifications').where({ merchant_id: merchantId, kind: 'business_licence', verification: 'verified' }).whereNull('superseded_by');
    expect(current).toEqual([expect.objectContaining({ recorded_by: 'olga' })]);
    const rejected = await api.post(`${path(merchantId)}/${merchantRenewal.body.qualificationId}/verification`, staff.ops, { decision: 'reject', reason: 'not on the register' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ verification: 'rejected', supersedes: null, verificationReason: 'not on the register' });
    expect(await auditOf(`qualification:${merchantRenewal.body.qualificationId}`, 2)).toEqual([
      expect.objectContaining({ action: 'qualification.record' }),
      expect.objectContaining({ action: 'qualification.reject' }),
    ]);
  });

  test("another merchant's qualifications are answered as a missing merchant's", async () => {
    const intruder = await api.get(path(merchantId), merchant('m-other'));
    const missing = await api.get(path('m-none'), merchant('m-none'));
    expectAnsweredAsMissing(intruder, missing, { existing: merchantId, unknown: 'm-none' });
    expect((await api.post(path(merchantId), merchant('m-other'), licence)).status).toBe(404);
    expect((await api.post(path('m-no-shop'), staff.admin, licence)).status).toBe(404);
  });

  test.each([
    ['expiry before validity', { ...licence, expiresOn: '2023-12-31' }],
    ['a day that does not exist', { ...licence, expiresOn: '2027-02-30' }],
    ['an unknown kind', { ...licence, kind: 'tobacco_licence' }],
    ['an unknown field', { ...licence, holder: 'someone' }],
    ['a number with punctuation', { ...licence, number: '9135-0100' }],
    ['year 0000 (PostgreSQL has no year 0)', { ...licence, validFrom: '0000-01-01' }],
    ['a year before 1900', { ...licence, validFrom: '1899-12-31' }],
    ['a far-off expiry (more than 30 years after validFrom)', { ...licence, expiresOn: '9999-12-31' }],
    ['a verification without a reason', null],
  ])('%s is a 400 problem', async (_what, body) => {
    const res = body === null ? await api.post(`${path(merchantId)}/qual_x/verification`, staff.ops, { decision: 'verify' }) : await api.post(path(merchantId), merchant(merchantId), body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(res.body)).not.toContain(USCC);
  });

  test('ops run the current month\'s check and read its counts; a merchant may not; another month is a 409', async () => {
    const month = shanghaiDate(new Date(await stack.env.currentTimeMs())).slice(0, 7);
    await stack.db('merchant_qualifications').insert({
      id: 'qual_api_expiring',
      merchant_id: merchantId,
      shop_id: `shop-${merchantId}`,
      kind: 'food_licence',
      valid_from: '2020-01-01',
      expires_on: shanghaiDate(new Date((await stack.env.currentTimeMs()) + 10 * 86_400_000)),
      recorded_by: 'olga',
      verification: 'verified',
      verified_by: 'olga',
      verified_at: new Date(),
    });
    expect((await api.post('/v1/qualification-checks', merchant(merchantId), {})).status).toBe(403);
    const other = await api.post('/v1/qualification-checks', staff.ops, { month: '2020-01' });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'not_current_month', currentMonth: month });

    const started = await api.post('/v1/qualification-checks', staff.ops, {});
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ month, workflowId: `qualification-check:${month}` });
    expect(started.headers.location).toBe(`/v1/qualification-checks/${month}`);
    const done = await eventually(async () => (await api.get(`/v1/qualification-checks/${month}`, staff.admin)).body, (b) => b.status === 'completed');
    expect(done).toMatchObject({ month, checked: 1, expiring: 1, notified: 1, casesOpened: 0 });
    expect(await auditOf(`qualification-check:${month}`)).toEqual([expect.objectContaining({ action: expect.stringMatching(/^qualification_check\.(start|join)$/), outcome: 'succeeded' })]);

    // A check of the month still running (here one no worker picks up) is joined, not doubled.
    const going = await stack.env.client.workflow.start('qualificationCheck', { workflowId: `qualification-check:${month}`, taskQueue: 'no-worker-here', args: [{ month }] });
    const joined = await api.post('/v1/qualification-checks', staff.admin, { month });
    expect(joined.status).toBe(202);
    expect(joined.body).toEqual({ month, workflowId: `qualification-check:${month}`, joined: true });
    expect((await going.describe()).status.name).toBe('RUNNING');
    await going.terminate('test over');

    expect((await api.get('/v1/qualification-checks/2019-01', staff.ops)).status).toBe(404);
    expect((await api.get('/v1/qualification-checks/2019-13', staff.ops)).status).toBe(400);
    expect((await api.get(`/v1/qualification-checks/${month}`, merchant(merchantId))).status).toBe(403);
  });
});
