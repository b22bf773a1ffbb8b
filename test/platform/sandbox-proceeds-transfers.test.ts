import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import type { ProceedsTransferInput } from '../../platform/types';
import { AUTH, aProceedsTransfer, putShop, TOKEN } from './sandbox-fixtures';

describe('sandbox platform: transfers from sales proceeds', () => {
  const rolls: number[] = [];
  // Rolls of 1 never fail; a test pushes 0 to fail the next platform call.
  const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
  const transfer = (shopId: string, key: string, body: Partial<ProceedsTransferInput> | Record<string, unknown>) =>
    request(app).post(`/v1/shops/${shopId}/proceeds-transfers`).set(AUTH).set('Idempotency-Key', key).send(body);
  const proceedsOf = (shopId: string) => state.shops.get(shopId)?.availableProceedsFen;

  it('moves what was asked when the proceeds cover it', async () => {
    await putShop(app, 's-cover', { availableProceedsFen: 200_000 });
    const res = await transfer('s-cover', 'cover-1', aProceedsTransfer({ maxAmountFen: 150_000 }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ transferId: expect.stringMatching(/^ptf_[0-9a-f-]{36}$/), transferredFen: 150_000 });
    expect(proceedsOf('s-cover')).toBe(50_000);
  });

  it('caps the transfer at the available proceeds, down to 0', async () => {
    await putShop(app, 's-cap', { availableProceedsFen: 40_000 });
    const capped = await transfer('s-cap', 'cap-1', aProceedsTransfer({ maxAmountFen: 150_000 }));
    const empty = await transfer('s-cap', 'cap-2', aProceedsTransfer({ maxAmountFen: 150_000 }));

    expect([capped.status, capped.body.transferredFen]).toEqual([201, 40_000]);
    expect([empty.status, empty.body.transferredFen]).toEqual([201, 0]);
    expect(proceedsOf('s-cap')).toBe(0);
    expect(state.shops.get('s-cap')?.proceedsTransfers.map((t) => [t.maxAmountFen, t.transferredFen])).toEqual([
      [150_000, 40_000],
      [150_000, 0],
    ]);
  });

  it('answers 0 for a shop the sandbox has no proceeds for', async () => {
    const res = await transfer('s-unknown', 'unknown-1', aProceedsTransfer());
    expect(res.status).toBe(201);
    expect(res.body.transferredFen).toBe(0);
  });

  it('replays a retried transfer: the proceeds decrease once', async () => {
    await putShop(app, 's-replay', { availableProceedsFen: 100_000 });
    const body = aProceedsTransfer({ maxAmountFen: 30_000 });
    const first = await transfer('s-replay', 'replay-1', body);
    const second = await transfer('s-replay', 'replay-1', body);

    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(proceedsOf('s-replay')).toBe(70_000);
    expect(state.shops.get('s-replay')?.proceedsTransfers).toHaveLength(1);
  });

  it('refuses the same key with another amount (422) and moves nothing more', async () => {
    await putShop(app, 's-reuse', { availableProceedsFen: 100_000 });
    await transfer('s-reuse', 'reuse-1', aProceedsTransfer({ maxAmountFen: 30_000 }));
    const reused = await transfer('s-reuse', 'reuse-1', aProceedsTransfer({ maxAmountFen: 60_000 }));
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({ error: 'idempotency_key_reused' });
    expect(proceedsOf('s-reuse')).toBe(70_000);
  });

  it('moves nothing on an injected 503, so the same key succeeds later', async () => {
    await putShop(app, 's-503', { availableProceedsFen: 100_000 });
    rolls.push(0);
    const failed = await transfer('s-503', 'flaky-1', aProceedsTransfer({ maxAmountFen: 30_000 }));
    expect(failed.status).toBe(503);
    expect(proceedsOf('s-503')).toBe(100_000);

    const retried = await transfer('s-503', 'flaky-1', aProceedsTransfer({ maxAmountFen: 30_000 }));
    expect([retried.status, retried.body.transferredFen]).toEqual([201, 30_000]);
    expect(proceedsOf('s-503')).toBe(70_000);
  });

  it.each([
    ['a zero amount', aProceedsTransfer({ maxAmountFen: 0 }), 'maxAmountFen'],
    ['a negative amount', aProceedsTransfer({ maxAmountFen: -100 }), 'maxAmountFen'],
    ['a fractional amount (fen are whole)', aProceedsTransfer({ maxAmountFen: 10.5 }), 'maxAmountFen'],
    ['an amount as a string', { ...aProceedsTransfer(), maxAmountFen: '100' }, 'maxAmountFen'],
    ['a missing purpose', { maxAmountFen: 100 }, 'purpose'],
    ['an extra field (strict schema)', { ...aProceedsTransfer(), toAccount: 'deposit' }, ''],
  ])('refuses %s with 400 and moves nothing', async (label, body, issuePath) => {
    await putShop(app, 's-invalid', { availableProceedsFen: 100_000 });
    const res = await transfer('s-invalid', `bad-${label}`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: issuePath })]));
    expect(proceedsOf('s-invalid')).toBe(100_000);
  });

  it('requires an Idempotency-Key', async () => {
    await putShop(app, 's-nokey', { availableProceedsFen: 100_000 });
    const res = await request(app).post('/v1/shops/s-nokey/proceeds-transfers').set(AUTH).send(aProceedsTransfer());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'idempotency_key_required' });
    expect(proceedsOf('s-nokey')).toBe(100_000);
  });
});
