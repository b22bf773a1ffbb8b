import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createSettlementActivities, type SettlementActivities } from '../../activities/settlement';
import { createSettlementService } from '../../api/settlements/service';
import { DEFAULT_SETTLEMENT_THRESHOLDS, periodBounds, periodOf } from '../../domain/settlement';
import type { PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';

/** MockActivityEnvironment.run typed by the activity it runs. */
const runIn =
  (env: MockActivityEnvironment) =>
  <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: NoInfer<A>): Promise<R> =>
    env.run(activity, ...args);

/**
 * A run's totals are the period's stored statements. A re-run (or a run retried after a
 * crash) starts counting from zero; when it still finds a merchant to try (one whose category
 * has no rate is tried every time) it used to write its own zero count over the totals.
 */
describe('settlement run totals', () => {
  let t: TestDb;
  let activities: SettlementActivities;
  const env = new MockActivityEnvironment();
  // Two months back: an ended month whatever the day of the test.
  const period = periodOf(new Date(Date.now() - 45 * 86_400_000));
  const received = new Date(periodBounds(period).start.getTime() + 5 * 86_400_000);

  beforeAll(async () => {
    t = await createTestDb();
    activities = createSettlementActivities({ db: t.db, platform: {} as PlatformClient, thresholds: DEFAULT_SETTLEMENT_THRESHOLDS });
    const order = (id: string, merchantId: string, category: string, amountFen: number) => ({
      id, merchant_id: merchantId, shop_id: `shop-${merchantId}`, category, amount_fen: amountFen,
      status: 'receipt_confirmed', paid_at: received, receipt_confirmed_at: received,
    });
    await t.db('orders').insert([order('rt-a', 'rt-1', 'apparel', 100_000), order('rt-b', 'rt-2', 'beauty', 50_000), order('rt-c', 'rt-3', 'toys', 9_000)]);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** What monthlySettlement does for a run started afresh: open the run, settle from the start with a count of 0, complete. */
  async function runOnce() {
    const run = await runIn(env)(activities.startRun, { period });
    const batch = await runIn(env)(activities.settleBatch, { period, after: '', merchantsDone: run.merchantsDone, totals: {} });
    await env.run(activities.completeRun, { period, missingRate: batch.missingRate });
  }

  test('a re-run leaves the totals as the statements stand, and GET reports them', async () => {
    const service = createSettlementService({ db: t.db, temporal: {} as Client, taskQueue: 'unused' });
    const expected = { statements: 2, gmvFen: 150_000, unionFeeFen: 10_000 + 7_500, channelFeeFen: 3_000 + 2_000, payoutFen: 87_000 + 40_500, lineCount: 2 };

    await runOnce();
    expect((await service.progress(period)).totals).toMatchObject(expected);
    expect((await t.db('settlement_runs').where({ period }).first()).totals).toMatchObject(expected);

    // Re-run: rt-3 (no rate for 'toys') is tried again and settles nothing.
    await runOnce();
    expect((await service.progress(period)).totals).toMatchObject(expected);
    expect((await t.db('settlement_runs').where({ period }).first()).totals).toMatchObject(expected);
  });
});
