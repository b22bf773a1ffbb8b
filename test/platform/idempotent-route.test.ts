import express, { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { idempotentRoute, type IdempotencyStore } from '../../platform/sandbox/idempotency';

/** The helper on its own, as later payment and restriction routes will use it. */
describe('idempotentRoute', () => {
  function transferApp(handle: (input: { amountFen: number }) => Promise<{ status: number; body: unknown }>) {
    const store: IdempotencyStore = new Map();
    const router = Router();
    idempotentRoute(router, '/transfers', {
      store,
      schema: z.object({ amountFen: z.number().int().positive() }).strict(),
      handle,
    });
    idempotentRoute(router, '/payouts', {
      store,
      method: 'put',
      schema: z.object({ amountFen: z.number().int().positive() }).strict(),
      handle,
    });
    const app = express();
    app.use(express.json());
    app.use(router);
    return { app, store };
  }

  it('runs a slow handler once for concurrent twins, and both get its answer', async () => {
    const balance = { fen: 10_000 };
    const { app } = transferApp(async ({ amountFen }) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      balance.fen -= amountFen;
      return { status: 201, body: { balanceFen: balance.fen } };
    });
    const send = () => request(app).post('/transfers').set('Idempotency-Key', 'tx-1').send({ amountFen: 2_500 });

    const [a, b] = await Promise.all([send(), send()]);

    expect(balance.fen).toBe(7_500);
    expect([a.body, b.body]).toEqual([{ balanceFen: 7_500 }, { balanceFen: 7_500 }]);
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].sort()).toEqual(['true', undefined]);
  });

  it('replays what was answered then, not what the state says now', async () => {
    const live = { items: [] as number[] };
    const { app } = transferApp(async ({ amountFen }) => {
      live.items.push(amountFen);
      return { status: 201, body: live };
    });
    await request(app).post('/transfers').set('Idempotency-Key', 'snap-1').send({ amountFen: 1 });
    await request(app).post('/transfers').set('Idempotency-Key', 'snap-2').send({ amountFen: 2 });
    const replay = await request(app).post('/transfers').set('Idempotency-Key', 'snap-1').send({ amountFen: 1 });
    expect(replay.body).toEqual({ items: [1] });
  });

  it('forgets the key when the handler throws, so a retry runs it again', async () => {
    let attempts = 0;
    const { app, store } = transferApp(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('ledger offline');
      return { status: 201, body: { attempt: attempts } };
    });
    const send = () => request(app).post('/transfers').set('Idempotency-Key', 'retry-1').send({ amountFen: 5 });

    expect((await send()).status).toBe(500);
    expect(store.has('retry-1')).toBe(false);
    const retried = await send();
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual({ attempt: 2 });
  });

  it('refuses one key on two different routes, even with the same body', async () => {
    const { app } = transferApp(async () => ({ status: 201, body: { ok: true } }));
    await request(app).post('/transfers').set('Idempotency-Key', 'cross-1').send({ amountFen: 9 });
    const other = await request(app).put('/payouts').set('Idempotency-Key', 'cross-1').send({ amountFen: 9 });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ error: 'idempotency_key_reused' });
  });

  it('stores a business refusal and replays it too', async () => {
    let calls = 0;
    const { app } = transferApp(async () => {
      calls += 1;
      return { status: 409, body: { error: 'insufficient_balance' } };
    });
    const send = () => request(app).post('/transfers').set('Idempotency-Key', 'refused-1').send({ amountFen: 1 });
    const [first, second] = [await send(), await send()];
    expect([first.status, second.status]).toEqual([409, 409]);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(1);
  });

  it('refuses a key longer than 255 characters', async () => {
    const { app } = transferApp(async () => ({ status: 201, body: {} }));
    const res = await request(app).post('/transfers').set('Idempotency-Key', 'k'.repeat(256)).send({ amountFen: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('idempotency_key_too_long');
  });
});
