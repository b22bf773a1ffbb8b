import { ApplicationFailure } from '@temporalio/common';
import type { PlatformClient } from '../../platform/types';
import { createShopService, type ShopService } from '../../api/shops/service';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop, ops, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;

interface RestrictionOutage {
  /** While set, every restriction the deposit ladder asks for fails as a platform outage. */
  down: boolean;
  refused: number;
  /** Every restriction the platform applied for the ladder, in order. */
  applied: string[];
}

/** The platform's restriction call fails while `down`, as it does under a high error rate. */
function restrictionOutage(outage: RestrictionOutage) {
  return (platform: PlatformClient): PlatformClient => ({
    ...platform,
    async setRestrictions(shopId, change, key) {
      const ladder = change.action === 'apply' && key.startsWith('deposit:');
      if (ladder && outage.down) {
        outage.refused += 1;
        throw ApplicationFailure.retryable('platform unavailable (injected)', 'PlatformUnavailable');
      }
      const inForce = await platform.setRestrictions(shopId, change, key);
      if (ladder) outage.applied.push(...change.restrictions);
      return inForce;
    },
  });
}

describe('a ladder step retrying while the shortfall ends (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  const outage: RestrictionOutage = { down: false, refused: 0, applied: [] };
  beforeAll(async () => {
    stack = await startStack({}, { wrapPlatform: restrictionOutage(outage) });
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a top-up that lands while the cart-closing step retries: the step does nothing, no restriction is ever applied', async () => {
    const merchantId = 'm-race';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);
    await shops.deduct(shopId, { account: 'deposit', amountFen: 10_000, reason: 'fine', reference: 'race-1' }, ops);
    const short = await depositState(stack, shopId, (s) => s.episode?.stepsDone.length === 2);
    const episodeId = short.episode!.id;

    // Day 3: the cart-closing step is due, and the platform refuses it.
    outage.down = true;
    await stack.env.sleep(3 * DAY + 60_000);
    await eventually(async () => outage.refused, (n) => n >= 1);

    // The merchant pays what is missing while the step is still retrying.
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 10_000 }) }, me);
    outage.down = false;

    const restored = await depositState(stack, shopId, (s) => s.episode === null);
    expect(restored).toMatchObject({ balanceFen: 50_000, restrictions: [] });
    const [episode] = await stack.db('deposit_episodes').where({ id: episodeId });
    expect(episode).toMatchObject({ end_reason: 'restored' });
    expect(episode.ended_at).not.toBeNull();
    // The retried step found the balance whole: it never restricted, on the platform or in our records.
    expect(outage.applied).toEqual([]);
    expect([...platformShop(stack, shopId).restrictions]).toEqual([]);
    expect(await stack.db('shop_restrictions').where({ shop_id: shopId })).toEqual([]);
    const steps = await stack.db('deposit_episode_steps').where({ episode_id: episodeId }).orderBy('at');
    expect(steps.map((s: { step: string }) => s.step)).toEqual(['notify', 'transfer_proceeds']);
    await expectLedgerWhole(stack, shopId);
  });
});
