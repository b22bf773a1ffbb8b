import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { verifyPlatformCallback } from '../../security/platform-signature';

const SECRET = 'sandbox-test-callback-secret-000000000000';

describe('sandbox payments', () => {
  let sandbox: RunningSandbox;
  let receiver: Server;
  const received: Array<{ body: unknown; signature: ReturnType<typeof verifyPlatformCallback> }> = [];
  let answer = 200;

  beforeAll(async () => {
    // Stands in for our API's callback route: checks the signature as the API does.
    const app = express();
    app.post('/callbacks', express.raw({ type: () => true }), (req, res) => {
      const signature = verifyPlatformCallback({
        secret: SECRET,
        timestamp: req.get('X-Platform-Timestamp'),
        signature: req.get('X-Platform-Signature'),
        rawBody: req.body as Buffer,
        nowMs: Date.now(),
        toleranceSeconds: 300,
      });
      received.push({ body: JSON.parse((req.body as Buffer).toString('utf8')), signature });
      res.status(answer).json({});
    });
    receiver = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks`;
    sandbox = await startSandboxPlatform({ port: 0, token: 't', paymentCallback: { url, secret: SECRET } });
  });
  afterAll(async () => {
    await sandbox.close();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const control = (path: string, body: object = {}) => request(sandbox.url).post(`/v1${path}`).set('Authorization', 'Bearer t').send(body);
  const client = () => createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });

  test('a payment goes pending → confirmed, is read by id, and each change is called back, signed', async () => {
    const made = await control('/_payments', { shopId: 'shop-1', account: 'deposit', amountFen: 50_000, payerAccount: 'bank:1', status: 'pending' });
    expect(made.status).toBe(201);
    const { paymentId } = made.body as { paymentId: string };
    expect(paymentId).toMatch(/^pay_/);
    expect(await client().payment(paymentId)).toMatchObject({ paymentId, status: 'pending', confirmedAt: null, amountFen: 50_000, payerAccount: 'bank:1', refundedFen: 0 });
    expect(received).toHaveLength(0);

    const confirmed = await control(`/_payments/${paymentId}/confirm`);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', confirmedAt: expect.any(String), callbacks: [{ status: 'confirmed', answeredWith: 200, at: expect.any(String) }] });
    expect(received).toEqual([{ body: expect.objectContaining({ paymentId, shopId: 'shop-1', status: 'confirmed', amountFen: 50_000 }), signature: { ok: true } }]);
    expect((await client().payment(paymentId))!.status).toBe('confirmed');

    // Settled is final: a confirmed payment cannot fail.
    expect((await control(`/_payments/${paymentId}/fail`)).status).toBe(409);
  });

  test('an unknown payment reads as null; the fixture routes stay out of the call log', async () => {
    expect(await client().payment('pay_nobody')).toBeNull();
    expect(sandbox.state.calls.map((c) => c.path).filter((p) => p.includes('_payments'))).toEqual([]);
    expect(sandbox.state.calls.map((c) => c.path)).toContain('/v1/payments/pay_nobody');
  });

  test('a callback our API refuses is recorded with its answer', async () => {
    answer = 401;
    const made = await control('/_payments', { shopId: 'shop-2', account: 'promotion_deposit', amountFen: 1, payerAccount: 'bank:2', status: 'confirmed' });
    answer = 200;
    expect(made.body.callbacks).toEqual([expect.objectContaining({ status: 'confirmed', answeredWith: 401 })]);
  });

  test('refunds of a payment go to its payer and never past what it paid', async () => {
    const { paymentId } = (await control('/_payments', { shopId: 'shop-3', account: 'deposit', amountFen: 700, payerAccount: 'bank:3', status: 'confirmed' })).body as { paymentId: string };
    const refund = (amountFen: number, key: string) => client().refund({ shopId: 'shop-3', account: 'deposit', amountFen, reference: key, paymentId, payerAccount: 'bank:someone-else' }, key);
    await refund(500, 'k-1');
    await expect(refund(201, 'k-2')).rejects.toMatchObject({ type: 'PlatformRejected', nonRetryable: true });
    await refund(200, 'k-3');
    expect(sandbox.state.shops.get('shop-3')!.refunds.map((r) => [r.amountFen, r.payerAccount])).toEqual([
      [500, 'bank:3'],
      [200, 'bank:3'],
    ]);
    // Another shop cannot refund it.
    await expect(client().refund({ shopId: 'shop-4', account: 'deposit', amountFen: 1, reference: 'x', paymentId }, 'k-4')).rejects.toMatchObject({ type: 'PlatformRejected' });
  });
});
