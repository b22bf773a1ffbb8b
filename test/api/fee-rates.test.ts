import { eventually } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api, type AuditRow } from './http';

const PERIOD = '2026-10';
/** A wall-clock time in Shanghai (UTC+8). */
const shanghai = (local: string) => new Date(`${local}+08:00`);

const aRate = (over: Record<string, unknown> = {}) => ({ category: 'globes', unionFeeBp: 1_000, channelShareBp: 300, effectiveFrom: '2026-01-01', ...over });

/** A day `days` after today in Shanghai, as YYYY-MM-DD. */
const shanghaiDayIn = (days: number) => new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);

describe('fee rates through the API', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test.each([
    ['ops', staff.ops],
    ['a reviewer', staff.reviewer],
    ['a merchant', merchant('m-1')],
  ])('%s may neither read nor add rates (403), and nothing is added', async (_name, who) => {
    expect((await api.get('/v1/fee-rates', who)).status).toBe(403);
    expect((await api.post('/v1/fee-rates', who, aRate({ category: 'roles' }))).status).toBe(403);
    expect(await stack.db('fee_rates').where({ category: 'roles' })).toHaveLength(0);
  });

  test.each([
    ['a fraction of a bp', { unionFeeBp: 10.5 }, 'unionFeeBp'],
    ['a negative bp', { channelShareBp: -1 }, 'channelShareBp'],
    ['a part above 100%', { unionFeeBp: 10_001 }, 'unionFeeBp'],
    ['parts above 100% together', { unionFeeBp: 9_000, channelShareBp: 1_001 }, 'channelShareBp'],
    ['a bp as text', { unionFeeBp: '1000' }, 'unionFeeBp'],
    ['a day that does not exist', { effectiveFrom: '2026-02-29' }, 'effectiveFrom'],
    ['a day with a time', { effectiveFrom: '2026-01-01T00:00:00+08:00' }, 'effectiveFrom'],
    ['a day before the first period', { effectiveFrom: '2019-12-31' }, 'effectiveFrom'],
    ['a day more than a year ahead', { effectiveFrom: shanghaiDayIn(368) }, 'effectiveFrom'],
    ['an empty category', { category: '' }, 'category'],
    ['a category with surrounding spaces', { category: ' globes' }, 'category'],
    ['another field', { rateBp: 1_300 }, '(root)'],
  ])('%s is a 400 naming the field, and nothing is added', async (_name, over, field) => {
    const res = await api.post('/v1/fee-rates', staff.finance, aRate({ category: 'invalid', ...over }));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(field);
    expect(await stack.db('fee_rates').where({ category: 'invalid' })).toHaveLength(0);
  });

  test('finance adds a rate, admin supersedes it from a day; reading at a day answers the one in force; each addition is audited naming the rate', async () => {
    const added = await api.post('/v1/fee-rates', staff.finance, aRate({ effectiveFrom: '2026-01-01' }));
    expect(added.status).toBe(201);
    expect(added.body.rate).toMatchObject({ category: 'globes', unionFeeBp: 1_000, channelShareBp: 300, effectiveFrom: '2026-01-01', effectiveUntil: null, createdBy: 'fang' });
    const superseding = await api.post('/v1/fee-rates', staff.admin, aRate({ unionFeeBp: 1_400, effectiveFrom: '2026-07-01' }));
    expect(superseding.status).toBe(201);

    const all = await api.get('/v1/fee-rates?category=globes', staff.finance);
    expect(all.body.rates.map((r: { effectiveFrom: string; effectiveUntil: string | null; unionFeeBp: number }) => [r.effectiveFrom, r.effectiveUntil, r.unionFeeBp])).toEqual([
      ['2026-01-01', '2026-07-01', 1_000],
      ['2026-07-01', null, 1_400],
    ]);
    expect((await api.get('/v1/fee-rates?category=globes&at=2026-06-30', staff.admin)).body.rates).toEqual([expect.objectContaining({ unionFeeBp: 1_000 })]);
    expect((await api.get('/v1/fee-rates?category=globes&at=2026-07-01', staff.admin)).body.rates).toEqual([expect.objectContaining({ unionFeeBp: 1_400 })]);
    expect((await api.get('/v1/fee-rates?at=2026-13-01', staff.admin)).status).toBe(400);

    const rows = await eventually(
      () => stack.db<AuditRow>('audit_log').where({ target: 'fee-rate:globes:2026-07-01' }).orderBy('id'),
      (r) => r.some((x) => x.outcome === 'succeeded'),
    );
    // The `attempted` row is written before the body is read, so only the outcome names the rate.
    expect(rows.map((r) => [r.action, r.actor_sub, r.outcome, r.status_code])).toEqual([['fee_rate.add', 'ada', 'succeeded', 201]]);
    expect(await stack.db<AuditRow>('audit_log').where({ request_id: rows[0]!.request_id }).pluck('outcome')).toEqual(['attempted', 'succeeded']);
  });

  test('a day the category already has is a 409: a rate is never replaced', async () => {
    await api.post('/v1/fee-rates', staff.finance, aRate({ category: 'maps', effectiveFrom: '2026-02-01' }));
    const again = await api.post('/v1/fee-rates', staff.finance, aRate({ category: 'maps', effectiveFrom: '2026-02-01', unionFeeBp: 2_000 }));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'fee_rate_exists', category: 'maps', effectiveFrom: '2026-02-01' });
    expect((await api.get('/v1/fee-rates?category=maps', staff.finance)).body.rates).toEqual([expect.objectContaining({ unionFeeBp: 1_000 })]);
  });

  test('a settlement held back by a missing rate names the category and merchants, goes on once the rate is added, and the rate it used cannot be rewritten', async () => {
    const orders = [
      { id: 'pet-o1', merchant_id: 'fr-pet-1', category: 'pets', at: shanghai('2026-10-06T10:00:00') },
      { id: 'pet-o2', merchant_id: 'fr-pet-1', category: 'apparel', at: shanghai('2026-10-07T10:00:00') },
      { id: 'pet-o3', merchant_id: 'fr-pet-2', category: 'pets', at: shanghai('2026-10-20T10:00:00') },
      { id: 'app-o1', merchant_id: 'fr-app-1', category: 'apparel', at: shanghai('2026-10-08T10:00:00') },
    ];
    await stack.db('orders').insert(
      orders.map((o) => ({
        id: o.id,
        merchant_id: o.merchant_id,
        shop_id: `shop-${o.merchant_id}`,
        category: o.category,
        amount_fen: 500_000,
        status: 'receipt_confirmed',
        paid_at: new Date(o.at.getTime() - 86_400_000),
        receipt_confirmed_at: o.at,
      })),
    );
    const progress = () => api.get(`/v1/settlements/${PERIOD}`, staff.finance);

    expect((await api.post('/v1/settlements', staff.finance, { period: PERIOD })).status).toBe(202);
    const blocked = await eventually(progress, (r) => r.status === 200 && r.body.status === 'completed', 30_000);
    expect(blocked.body.missingRates).toEqual([{ category: 'pets', merchantIds: ['fr-pet-1', 'fr-pet-2'] }]);
    expect(await stack.db('statements').where({ period: PERIOD }).pluck('merchant_id')).toEqual(['fr-app-1']);

    const added = await api.post('/v1/fee-rates', staff.finance, { category: 'pets', unionFeeBp: 1_200, channelShareBp: 300, effectiveFrom: '2026-10-01' });
    expect(added.status).toBe(201);
    expect(added.body.resumedSettlements).toEqual([{ period: PERIOD, status: 'started' }]);

    const resumed = await eventually(progress, (r) => r.body.missingRates?.length === 0, 30_000);
    expect(resumed.body.failures).toEqual([]);
    expect((await stack.db('statements').where({ period: PERIOD }).orderBy('merchant_id').pluck('merchant_id'))).toEqual(['fr-app-1', 'fr-pet-1', 'fr-pet-2']);
    // 5,000 CNY of pets at 12% + 3%, 5,000 of apparel at 10% + 3%.
    expect(await stack.db('statements').where({ merchant_id: 'fr-pet-1', period: PERIOD }).first()).toMatchObject({
      gmv_fen: 1_000_000,
      union_fee_fen: 60_000 + 50_000,
      channel_fee_fen: 15_000 + 15_000,
    });

    // The October pets lines were priced at 12% from 2026-10-01: that rate now stands for them.
    const rewrite = await api.post('/v1/fee-rates', staff.admin, { category: 'pets', unionFeeBp: 900, channelShareBp: 300, effectiveFrom: '2026-10-15' });
    expect(rewrite.status).toBe(409);
    expect(rewrite.body).toMatchObject({ code: 'fee_rate_used', category: 'pets', effectiveFrom: '2026-10-15', lastPricedDate: '2026-10-20' });
    const refusedAudit = await eventually(
      () => stack.db<AuditRow>('audit_log').where({ target: 'fee-rate:pets:2026-10-15' }).orderBy('id'),
      (r) => r.some((x) => x.outcome === 'refused'),
    );
    expect(refusedAudit.map((r) => [r.action, r.status_code])).toEqual([['fee_rate.add', 409]]);
    const later = await api.post('/v1/fee-rates', staff.admin, { category: 'pets', unionFeeBp: 900, channelShareBp: 300, effectiveFrom: '2026-10-21' });
    expect(later.status).toBe(201);
    expect(later.body.resumedSettlements).toEqual([]);
  });
});
