import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { SIGNATURE_HEADER, signPlatformCallback, TIMESTAMP_HEADER } from '../../security/platform-signature';
import type { Payment } from '../types';
import { PAYMENT_FIXTURES_PATH } from './control-paths';
import type { SandboxPayment, SandboxState } from './state';
import { invalidRequest, positiveFenSchema } from './validation';

/** Where and how the platform tells us about a payment; absent (or no url), no callback is sent. */
export interface PaymentCallbackTarget {
  url: string;
  secret: string;
  /** Per delivery; a callback never holds the fixture route for long. */
  timeoutMs?: number;
}

const newPaymentSchema = z
  .object({
    shopId: z.string().min(1),
    account: z.enum(['deposit', 'promotion_deposit']),
    amountFen: positiveFenSchema,
    payerAccount: z.string().min(1).max(100),
    /** `confirmed` pays at once (one call for a test that just needs money in). */
    status: z.enum(['pending', 'confirmed']).default('pending'),
  })
  .strict();

const paymentView = ({ callbacks: _callbacks, ...payment }: SandboxPayment): Payment => ({ ...payment });

/**
 * Payments into deposits. The platform API reads one (`GET /v1/payments/:paymentId`); the
 * control routes stand in for the payer and the payment network: make a payment, confirm
 * it, fail it. Each change of status is sent to our API as a signed callback.
 */
export function paymentsRouter(state: SandboxState): Router {
  const router = Router();
  router.get('/payments/:paymentId', (req, res) => {
    const payment = state.payments.get(req.params.paymentId);
    if (!payment) {
      res.status(404).json({ error: 'payment_not_found' });
      return;
    }
    res.json(paymentView(payment));
  });
  return router;
}

export function paymentFixturesRouter(state: SandboxState, callback?: PaymentCallbackTarget): Router {
  const router = Router();

  router.post(PAYMENT_FIXTURES_PATH, async (req, res) => {
    const parsed = newPaymentSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json(invalidRequest(parsed.error));
      return;
    }
    const { status, ...input } = parsed.data;
    const now = new Date().toISOString();
    const payment: SandboxPayment = {
      paymentId: `pay_${randomUUID()}`,
      ...input,
      status,
      createdAt: now,
      confirmedAt: status === 'confirmed' ? now : null,
      refundedFen: 0,
      callbacks: [],
    };
    state.payments.set(payment.paymentId, payment);
    if (status === 'confirmed') await deliver(payment, callback);
    res.status(201).json({ ...paymentView(payment), callbacks: payment.callbacks });
  });

  const settle = (to: 'confirmed' | 'failed') =>
    router.post(`${PAYMENT_FIXTURES_PATH}/:paymentId/${to === 'confirmed' ? 'confirm' : 'fail'}`, async (req, res) => {
      const payment = state.payments.get(req.params.paymentId);
      if (!payment) {
        res.status(404).json({ error: 'payment_not_found' });
        return;
      }
      if (payment.status !== 'pending' && payment.status !== to) {
        res.status(409).json({ error: 'payment_already_settled', status: payment.status });
        return;
      }
      if (payment.status === 'pending') {
        payment.status = to;
        if (to === 'confirmed') payment.confirmedAt = new Date().toISOString();
      }
      // Settling again re-sends the callback, as a platform does until we acknowledge it.
      await deliver(payment, callback);
      res.json({ ...paymentView(payment), callbacks: payment.callbacks });
    });
  settle('confirmed');
  settle('failed');

  return router;
}

/** Sends the payment's state, signed; records what our API answered. */
async function deliver(payment: SandboxPayment, target: PaymentCallbackTarget | undefined): Promise<void> {
  if (!target?.url) return;
  const body = JSON.stringify(paymentView(payment));
  const timestamp = Math.floor(Date.now() / 1000);
  let answeredWith: number | null = null;
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signPlatformCallback(target.secret, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? 30_000),
    });
    answeredWith = response.status;
    await response.body?.cancel();
  } catch {
    answeredWith = null;
  }
  payment.callbacks.push({ at: new Date().toISOString(), status: payment.status, answeredWith });
}
