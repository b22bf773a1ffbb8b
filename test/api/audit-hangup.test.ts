import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { listen, type ListeningServer } from '../../api/listen';
import { eventually } from '../support/fixtures';
import { paymentIdOf } from '../support/payments';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { merchant } from './http';

/**
 * Clients that hang up: every mutation that reached the server leaves its attempt in the
 * audit log, and every one whose work happened leaves its outcome, although no answer could
 * be delivered. A real HTTP server, because supertest never hangs up.
 */
describe('audit rows survive clients that hang up', () => {
  let stack: Stack;
  let server: ListeningServer;
  let base: string;
  const reached = new Set<string>();
  // Each client hangs up 25 ms after the server has its request, however slow the machine:
  // a timer started at send time could fire before the request even arrived.
  const hangUps = new Map<string, AbortController>();

  beforeAll(async () => {
    stack = await startStack();
    server = await listen(stack.app, '127.0.0.1', 0);
    server.server.on('request', (req: IncomingMessage) => {
      const id = String(req.headers['x-request-id']);
      reached.add(id);
      const abort = hangUps.get(id);
      if (abort) setTimeout(() => abort.abort(), 25);
    });
    base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.server.closeAllConnections();
    await server?.close();
    await stack?.teardown();
  });

  test('5 top-ups whose clients give up 25 ms after the server has them: an attempt row for each, an outcome row for each one posted', async () => {
    const merchantId = 'm-hangup';
    const { shopId } = await openShop(stack, merchantId);
    const token = await stack.token(merchant(merchantId));
    const ids = [1, 2, 3, 4, 5].map((n) => `hangup-${n}`);
    const payments: string[] = [];
    for (const _ of ids) payments.push(await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 1_000 }));

    const sent = ids.map(async (id, n) => {
      const abort = new AbortController();
      hangUps.set(id, abort);
      try {
        const res = await fetch(`${base}/v1/shops/${shopId}/deposit/top-ups`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({ paymentId: payments[n] }),
          signal: abort.signal,
        });
        await res.body?.cancel();
        return res.status;
      } catch {
        return 'hung up' as const;
      }
    });
    const answers = await Promise.all(sent);
    // The point of the test: most clients never got an answer.
    expect(answers.filter((a) => a === 'hung up').length).toBeGreaterThan(0);

    // Every request ends with a row that has a status: the work finished (or was refused) after the hang-up.
    const rows = await eventually(
      () => stack.db('audit_log').whereIn('request_id', ids).orderBy('id'),
      (found) => ids.every((id) => found.some((r) => r.request_id === id && r.status_code !== null)),
    );
    expect(ids.every((id) => reached.has(id))).toBe(true);
    const succeeded = ids.filter((id) => rows.some((r) => r.request_id === id && r.outcome === 'succeeded'));
    expect(succeeded.length).toBeGreaterThan(0);
    // The ledger holds exactly the top-ups whose outcome rows say they succeeded.
    const postedKeys = await eventually(
      () => stack.db('ledger_transactions').where({ shop_id: shopId, kind: 'top_up' }).pluck('idempotency_key'),
      (keys) => keys.length >= succeeded.length,
    );
    expect(postedKeys.sort()).toEqual(succeeded.map((id) => `topup:${shopId}:${payments[ids.indexOf(id)]}`).sort());
    ids.forEach((id, n) => {
      const mine = rows.filter((r) => r.request_id === id);
      expect(mine[0]).toMatchObject({ actor_sub: `u-${merchantId}`, actor_role: 'merchant', outcome: 'attempted', status_code: null });
      const last = mine.at(-1);
      if (postedKeys.includes(`topup:${shopId}:${payments[n]}`)) {
        // Posted: its outcome is the real one, under the shop, although nobody was there to hear it.
        expect(last).toMatchObject({ action: 'deposit.top_up', target: `shop:${shopId}`, status_code: 200, outcome: 'succeeded' });
      } else {
        // Cut before its body was read: refused, and recorded so.
        expect(last).toMatchObject({ outcome: 'refused' });
      }
    });
    // Nothing of the bodies: no payment id in the log.
    for (const paymentId of payments) expect(JSON.stringify(rows)).not.toContain(paymentId);
  });
});
