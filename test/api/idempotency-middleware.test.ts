import express, { type Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createIdempotencyKeyRepository } from '../../db/repositories/idempotency-keys';
import { errorMapper, HttpError } from '../../api/errors';
import { idempotent, isFinalAnswer, REPLAYED_HEADER } from '../../api/idempotency';
import { createTestDb, type TestDb } from '../support/db';

/**
 * The Idempotency-Key middleware on its own, over a real table: a route whose answers the
 * test scripts, counting how often its work runs.
 */
describe('Idempotency-Key middleware', () => {
  let t: TestDb;
  let app: Express;
  let runs = 0;
  /** The next answers of the route, in order; then 200 { n }. */
  let script: Array<{ status: number; body: Record<string, unknown> } | HttpError> = [];
  let gate: Promise<void> | undefined;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    t = await createTestDb();
    app = express();
    app.use(express.json());
    app.use((req, _res, next) => {
      const merchantId = req.get('x-merchant');
      req.principal = merchantId ? { sub: req.get('x-sub') ?? 'fang', role: 'merchant', merchantId } : { sub: req.get('x-sub') ?? 'fang', role: 'finance' };
      next();
    });
    const handler: express.RequestHandler = async (_req, res) => {
      runs += 1;
      const n = runs;
      if (gate) await gate;
      const next = script.shift();
      if (next instanceof HttpError) throw next;
      if (next) return void res.status(next.status).json(next.body);
      res.locals.audit = { action: 'test.move', target: `thing:${n}` };
      res.status(201).json({ n });
    };
    const keys = idempotent({ keys: createIdempotencyKeyRepository(t.db), logger, abandonedAfterMs: 60_000 });
    app.post('/v1/things', keys, handler);
    app.post('/v1/other-things', keys, handler);
    app.use(errorMapper(logger));
  });
  afterAll(async () => {
    await t?.destroy();
  });
  beforeEach(() => {
    runs = 0;
    script = [];
    gate = undefined;
  });

  const post = (key: string | undefined, body: object, sub = 'fang', path = '/v1/things') => {
    const req = request(app).post(path).set('x-sub', sub);
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
  };

  test('without a key the route runs every time', async () => {
    await post(undefined, { a: 1 });
    await post(undefined, { a: 1 });
    expect(runs).toBe(2);
  });

  test.each([
    ['empty', ''],
    ['129 characters', 'k'.repeat(129)],
    ['a space', 'a key'],
    ['non-ASCII', 'clé'],
  ])('a key that is %s is a 400 and nothing runs', async (_name, key) => {
    const res = await request(app).post('/v1/things').set('Idempotency-Key', key).send({});
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: 'Idempotency-Key' })]);
    expect(runs).toBe(0);
  });

  test('128 printable characters are a key', async () => {
    const res = await post(`${'k'.repeat(127)}~`, {});
    expect(res.status).toBe(201);
  });

  test('the same key and body (in any key order) answers the first answer again, without running', async () => {
    const first = await post('same-1', { a: 1, b: { c: 2, d: 3 } });
    const again = await post('same-1', { b: { d: 3, c: 2 }, a: 1 });
    expect(first.status).toBe(201);
    expect(first.headers[REPLAYED_HEADER.toLowerCase()]).toBeUndefined();
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    expect(again.headers[REPLAYED_HEADER.toLowerCase()]).toBe('true');
    expect(runs).toBe(1);
  });

  test('the same key with another body, or on another route, is a 409 and nothing runs', async () => {
    await post('other-1', { a: 1 });
    const otherBody = await post('other-1', { a: 2 });
    const otherRoute = await post('other-1', { a: 1 }, 'fang', '/v1/other-things');
    for (const res of [otherBody, otherRoute]) {
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'idempotency_key_reused', retryable: false });
    }
    expect(runs).toBe(1);
  });

  test("two callers' keys never meet", async () => {
    await post('shared-1', { a: 1 }, 'fang');
    const other = await post('shared-1', { a: 2 }, 'ada');
    expect(other.status).toBe(201);
    expect(runs).toBe(2);
  });

  test.each([
    ['a 500', new HttpError(500, 'internal', 'boom')],
    ['a 503', new HttpError(503, 'unavailable', 'retry shortly')],
    ['a 409 that says retry', new HttpError(409, 'payment_pending', 'not yet', { retryable: true })],
    ['a 202 still running', { status: 202, body: { status: 'accepted', message: 'still running' } }],
  ])('after %s the key is free: the retry runs', async (_name, answer) => {
    script = [answer];
    const key = `free-${_name.replace(/\W+/g, '-')}`;
    const first = await post(key, { a: 1 });
    expect(first.status).not.toBe(201);
    const retry = await post(key, { a: 1 });
    expect(retry.status).toBe(201);
    expect(retry.headers[REPLAYED_HEADER.toLowerCase()]).toBeUndefined();
    expect(runs).toBe(2);
  });

  test.each([
    ['a 400', new HttpError(400, 'invalid_request', 'bad', { issues: [] })],
    ['a 404', new HttpError(404, 'not_found', 'no such shop')],
    ['a final 409', new HttpError(409, 'conflict', 'shop closed')],
  ])('%s is the answer for good: replayed', async (name, answer) => {
    script = [answer];
    const key = `kept-${name.replace(/\W+/g, '-')}`;
    const first = await post(key, { a: 1 });
    const again = await post(key, { a: 1 });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(runs).toBe(1);
  });

  test('a duplicate while the first still runs is a 409 in progress; once answered, it replays', async () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const first = post('race-1', { a: 1 }).then((r) => r);
    // The first has claimed the key once its work started.
    for (let i = 0; i < 100 && runs === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const during = await post('race-1', { a: 1 });
    expect(during.status).toBe(409);
    expect(during.body).toMatchObject({ code: 'idempotency_key_in_progress', retryable: true });
    expect(during.headers['retry-after']).toBe('1');
    open();
    const answered = await first;
    const after = await post('race-1', { a: 1 });
    expect(answered.status).toBe(201);
    expect(after.body).toEqual(answered.body);
    expect(runs).toBe(1);
  });

  test('the same person acting for another merchant has other keys: a replay never skips that merchant', async () => {
    const asMerchant = (merchantId: string) => request(app).post('/v1/things').set('x-sub', 'lin').set('x-merchant', merchantId).set('Idempotency-Key', 'shared-k');
    const forA = await asMerchant('m-a').send({ a: 1 });
    const forB = await asMerchant('m-b').send({ a: 1 });
    expect([forA.status, forB.status]).toEqual([201, 201]);
    expect(forB.headers[REPLAYED_HEADER.toLowerCase()]).toBeUndefined();
    expect(runs).toBe(2);
  });

  test('of many concurrent duplicates exactly one runs', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('burst-1', { a: 1 })));
    expect(runs).toBe(1);
    expect(answers.filter((r) => r.status === 201)).not.toHaveLength(0);
    for (const r of answers) expect([201, 409]).toContain(r.status);
  });

  test('a claim left by a process that died is taken over by the same request after the wait', async () => {
    await t.db('idempotency_keys').insert({
      caller_sub: 'finance::fang',
      key: 'orphan-1',
      route: 'POST /v1/things',
      fingerprint: 'x',
      state: 'in_progress',
      created_at: new Date(Date.now() - 120_000),
    });
    // Another request under the key is still another request.
    expect((await post('orphan-1', { a: 1 })).body.code).toBe('idempotency_key_reused');
    await t.db('idempotency_keys').where({ key: 'orphan-1' }).delete();
    const { requestFingerprint } = await import('../../api/idempotency');
    await t.db('idempotency_keys').insert({
      caller_sub: 'finance::fang',
      key: 'orphan-2',
      route: 'POST /v1/things',
      fingerprint: requestFingerprint('POST /v1/things', { a: 1 }),
      state: 'in_progress',
      created_at: new Date(Date.now() - 120_000),
    });
    const res = await post('orphan-2', { a: 1 });
    expect(res.status).toBe(201);
    expect(runs).toBe(1);
  });

  test.each([
    [200, {}, true],
    [201, {}, true],
    [202, { status: 'started' }, true],
    [202, { status: 'accepted' }, false],
    [409, { retryable: false }, true],
    [409, { retryable: true }, false],
    [429, {}, false],
    [499, {}, true],
    [500, {}, false],
  ])('isFinalAnswer(%s, %j) is %s', (status, body, final) => {
    expect(isFinalAnswer(status, body)).toBe(final);
  });
});
