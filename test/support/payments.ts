import request from 'supertest';
import type { Payment } from '../../platform/types';
import type { DepositAccountKind } from '../../workflows/deposit-account.defs';
import type { Stack } from './stack';

export interface PaymentFixture {
  shopId: string;
  account: DepositAccountKind;
  amountFen: number;
  payerAccount?: string;
  /** `confirmed` (default) pays at once; `pending` waits for `confirmPayment` or `failPayment`. */
  status?: 'pending' | 'confirmed';
}

/** The merchant pays through the sandbox platform's payment API; answers the platform's payment. */
export async function pay(stack: Stack, fixture: PaymentFixture): Promise<Payment & { callbacks: Array<{ answeredWith: number | null }> }> {
  const res = await request(stack.sandbox.url)
    .post('/v1/_payments')
    .set('Authorization', `Bearer ${stack.config.PLATFORM_API_TOKEN}`)
    .send({ payerAccount: `bank:${fixture.shopId}`, status: 'confirmed', ...fixture });
  if (res.status !== 201) throw new Error(`payment fixture failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export const paymentIdOf = async (stack: Stack, fixture: PaymentFixture): Promise<string> => (await pay(stack, fixture)).paymentId;

/** The platform confirms (or fails) a pending payment; with a callback URL set, it is sent and answered first. */
export async function settlePayment(stack: Stack, paymentId: string, to: 'confirm' | 'fail') {
  const res = await request(stack.sandbox.url).post(`/v1/_payments/${paymentId}/${to}`).set('Authorization', `Bearer ${stack.config.PLATFORM_API_TOKEN}`).send({});
  if (res.status !== 200) throw new Error(`payment ${to} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Payment & { callbacks: Array<{ status: string; answeredWith: number | null }> };
}
