import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';

describe('sandbox settlement payouts', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  test('one key pays once: a retry replays the first payout', async () => {
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    const input = { merchantId: 'm-1', period: '2026-10', amountFen: 123_456 };
    const first = await client.payout(input, 'settle:m-1:2026-10');
    const again = await client.payout(input, 'settle:m-1:2026-10');
    expect(again).toEqual(first);
    expect(sandbox.state.payouts).toHaveLength(1);
    expect(sandbox.state.payouts[0]).toMatchObject({ merchantId: 'm-1', period: '2026-10', amountFen: 123_456 });
  });

  test.each([
    ['a zero amount', { merchantId: 'm-2', period: '2026-10', amountFen: 0 }],
    ['a bad period', { merchantId: 'm-2', period: '2026-13', amountFen: 1 }],
    ['an unknown field', { merchantId: 'm-2', period: '2026-10', amountFen: 1, extra: true }],
  ])('refuses %s as non-retryable', async (_name, input) => {
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    await expect(client.payout(input as never, `k-${_name}`)).rejects.toMatchObject({ type: 'PlatformRejected', nonRetryable: true });
  });

  test('a batch pays each item once by its own key: a retried batch pays only what it had not', async () => {
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    const item = (merchantId: string, amountFen: number) => ({ idempotencyKey: `settle:${merchantId}:2026-09`, merchantId, period: '2026-09', amountFen });
    const first = await client.payoutBatch([item('m-a', 100), item('m-b', 200)]);
    expect(first.payouts.map((p) => p.replayed)).toEqual([false, false]);
    const retried = await client.payoutBatch([item('m-a', 100), item('m-b', 200), item('m-c', 300)]);
    expect(retried.payouts.map((p) => [p.idempotencyKey, p.replayed])).toEqual([
      ['settle:m-a:2026-09', true],
      ['settle:m-b:2026-09', true],
      ['settle:m-c:2026-09', false],
    ]);
    expect(retried.payouts[0]!.payoutId).toBe(first.payouts[0]!.payoutId);
    expect(sandbox.state.payouts.filter((p) => p.period === '2026-09').map((p) => p.merchantId)).toEqual(['m-a', 'm-b', 'm-c']);
  });
});
