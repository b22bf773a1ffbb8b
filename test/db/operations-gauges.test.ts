import { createOperationsGauges } from '../../db/repositories/operations-gauges';
import { createTestDb, type TestDb } from '../support/db';

// The counts behind the worker's business gauges, on rows as the processes write them.
describe('operations gauges', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createTestDb();
    const { db } = testDb;
    const shops = ['s-1', 's-2', 's-3', 's-4'];
    await db('merchants').insert(shops.map((s) => ({ id: `m-${s}`, entity_type: 'individual', legal_name: `Merchant ${s}` })));
    await db('shops').insert(shops.map((s) => ({ id: s, merchant_id: `m-${s}`, shop_type: 'individual', opened_by_case_id: `vc-${s}` })));
    const episode = (id: string, shop: string, ended = false) => ({
      id,
      shop_id: shop,
      started_at: new Date(),
      ended_at: ended ? new Date() : null,
      required_fen: 50_000,
      balance_at_start_fen: 0,
      schedule: JSON.stringify([]),
    });
    // s-1: notified then the cart closed; s-2: no step yet; s-3: notified; s-4: ended (not short).
    await db('deposit_episodes').insert([episode('e-1', 's-1'), episode('e-2', 's-2'), episode('e-3', 's-3'), episode('e-4', 's-4', true)]);
    const step = (episodeId: string, name: string) => ({ episode_id: episodeId, step: name, at: new Date() });
    await db('deposit_episode_steps').insert([step('e-1', 'notify'), step('e-1', 'close_cart'), step('e-3', 'notify'), step('e-4', 'stop_sales')]);
    const review = (id: string, merchant: string, status: string, overdue: boolean, kind = 'verification') => ({
      id,
      merchant_id: merchant,
      workflow_id: `verification:${merchant}`,
      entity_type: 'individual',
      legal_name: 'x',
      status,
      submitted_at: new Date(),
      overdue,
      kind,
    });
    await db('verification_cases').insert([
      review('vc-a', 'm-s-1', 'in_review', true),
      review('vc-b', 'm-s-2', 'in_review', false),
      review('vc-c', 'm-s-3', 'approved', true),
      review('vc-d', 'm-s-4', 'awaiting_resubmission', false, 'entity_change'),
    ]);
    await db('settlement_runs').insert([
      { period: '2026-09', status: 'completed', merchants_total: 10, merchants_done: 10 },
      { period: '2026-10', status: 'running', merchants_total: 12, merchants_done: 5, failures: JSON.stringify([{ merchantId: 'm-1' }]) },
    ]);
  });
  afterAll(() => testDb.destroy());

  test('open reviews by kind and status, overdue among them; closed cases not counted', async () => {
    const counts = await createOperationsGauges(testDb.db).openReviews();
    expect(counts.sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { kind: 'entity_change', status: 'awaiting_resubmission', open: 1, overdue: 0 },
      { kind: 'verification', status: 'in_review', open: 2, overdue: 1 },
    ]);
  });

  test('shops in shortfall by the furthest ladder step of their open episode', async () => {
    const counts = await createOperationsGauges(testDb.db).shopsInShortfall();
    expect(counts.sort((a, b) => a.step.localeCompare(b.step))).toEqual([
      { step: 'close_cart', shops: 1 },
      { step: 'none', shops: 1 },
      { step: 'notify', shops: 1 },
    ]);
  });

  test('the latest settlement run and its progress', async () => {
    expect(await createOperationsGauges(testDb.db).latestSettlementRun()).toEqual({
      period: '2026-10',
      status: 'running',
      merchantsTotal: 12,
      merchantsDone: 5,
      failures: 1,
    });
  });
});
