import { MockActivityEnvironment } from '@temporalio/testing';
import { createDepositActivities } from '../../activities/deposits';
import { checkInvariants, createLedger, topUp } from '../../db/repositories/ledger';
import { createDepositAccountRepository } from '../../db/repositories/deposit-accounts';
import { DEFAULT_DEPOSIT_POLICY } from '../../domain/deposit-policy';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { shopForUpdate } from '../../platform/sandbox/state';
import type { PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

const REQUIRED = 50_000;

/** A ladder step re-checks, under the deposit account's lock, that there is still a shortfall to act on. */
describe('runLadderStep over a real database and the sandbox', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let platform: PlatformClient;
  const calls: string[] = [];
  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    const client = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    platform = {
      ...client,
      async setRestrictions(shopId, change, key) {
        calls.push(`${change.action}:${change.restrictions.join()}`);
        return client.setRestrictions(shopId, change, key);
      },
    };
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });

  /** A shop holding `balanceFen` of a 500 CNY requirement, with an open episode. */
  async function shortShop(shopId: string, balanceFen: number): Promise<string> {
    await t.db('merchants').insert({ id: `m-${shopId}`, entity_type: 'individual', legal_name: 'x' });
    await t.db('shops').insert({ id: shopId, merchant_id: `m-${shopId}`, shop_type: 'individual', opened_by_case_id: `vc-${shopId}` });
    await createLedger(t.db).post({ idempotencyKey: `topup:${shopId}:p0`, shopId, kind: 'top_up', reason: 'test', actor: 'test', entries: topUp('deposit', balanceFen) });
    const deposits = createDepositAccountRepository(t.db);
    await deposits.saveRequirement(shopId, { requiredFen: REQUIRED, parts: {}, month: '2026-11', at: new Date() });
    const episodeId = `${shopId}:ep`;
    await deposits.openEpisode({ id: episodeId, shopId, startedAt: new Date(), requiredFen: REQUIRED, balanceAtStartFen: balanceFen, schedule: [] });
    return episodeId;
  }
  const step = (shopId: string, episodeId: string, s: 'close_cart' | 'transfer_proceeds', shortfallFen: number) =>
    new MockActivityEnvironment().run(createDepositActivities({ db: t.db, platform, policy: DEFAULT_DEPOSIT_POLICY }).runLadderStep, {
      shopId,
      merchantId: `m-${shopId}`,
      episodeId,
      step: s,
      shortfallFen,
      requiredFen: REQUIRED,
    });
  const stepsOf = async (episodeId: string) => (await t.db('deposit_episode_steps').where({ episode_id: episodeId })).map((r: { step: string }) => r.step);

  test('still short: the restriction is applied and recorded', async () => {
    const episodeId = await shortShop('shop-short', 40_000);
    calls.length = 0;
    expect(await step('shop-short', episodeId, 'close_cart', 10_000)).toMatchObject({ skipped: null, balanceFen: 40_000 });
    expect(calls).toEqual(['apply:close_cart']);
    expect(await t.db('shop_restrictions').where({ shop_id: 'shop-short' }).select('restriction', 'source')).toEqual([{ restriction: 'close_cart', source: 'deposit' }]);
    expect(await stepsOf(episodeId)).toEqual(['close_cart']);
  });

  test('paid up since the step was scheduled: nothing is restricted', async () => {
    const episodeId = await shortShop('shop-paid', 40_000);
    await createLedger(t.db).post({ idempotencyKey: 'topup:shop-paid:p1', shopId: 'shop-paid', kind: 'top_up', reason: 'test', actor: 'test', entries: topUp('deposit', 10_000) });
    calls.length = 0;
    expect(await step('shop-paid', episodeId, 'close_cart', 10_000)).toMatchObject({ skipped: 'balance_restored', balanceFen: 50_000 });
    expect(calls).toEqual([]);
    expect(await t.db('shop_restrictions').where({ shop_id: 'shop-paid' })).toEqual([]);
    expect(await stepsOf(episodeId)).toEqual([]);
  });

  test('the episode has ended: nothing is restricted even though the balance is short', async () => {
    const episodeId = await shortShop('shop-ended', 40_000);
    await createDepositAccountRepository(t.db).closeEpisode(episodeId, new Date(), 'shop_closed');
    calls.length = 0;
    expect(await step('shop-ended', episodeId, 'close_cart', 10_000)).toMatchObject({ skipped: 'episode_ended' });
    expect(calls).toEqual([]);
    expect(await t.db('shop_restrictions').where({ shop_id: 'shop-ended' })).toEqual([]);
  });

  test('proceeds are taken only for what is still missing, not the shortfall the step was scheduled with', async () => {
    const episodeId = await shortShop('shop-partly', 40_000);
    shopForUpdate(sandbox.state, 'shop-partly').availableProceedsFen = 30_000;
    // 6,000 of the 10,000 arrived while the step waited.
    await createLedger(t.db).post({ idempotencyKey: 'topup:shop-partly:p1', shopId: 'shop-partly', kind: 'top_up', reason: 'test', actor: 'test', entries: topUp('deposit', 6_000) });
    expect(await step('shop-partly', episodeId, 'transfer_proceeds', 10_000)).toMatchObject({ skipped: null, balanceFen: REQUIRED });
    expect(shopForUpdate(sandbox.state, 'shop-partly').availableProceedsFen).toBe(26_000);
    expect(await checkInvariants(t.db)).toEqual([]);
  });
});
