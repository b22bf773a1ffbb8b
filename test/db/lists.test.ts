import { keysetQuery, type KeysetPage, type Position } from '../../db/keyset';
import { LIST_INDEXES } from '../../db/migrations/018_list_indexes';
import { createShopList } from '../../db/repositories/shop-list';
import { createSettlementLists, STATEMENT_LIST_ORDER } from '../../db/repositories/settlement/lists';
import { createVerificationQueue, VERIFICATION_QUEUE_ORDER } from '../../db/repositories/verification-queue';
import { createViolationList, VIOLATION_LIST_ORDER } from '../../db/repositories/violation-list';
import { createTestDb, type TestDb } from '../support/db';
import { CASES, queueOrder, RUNS, seedLists, SHOP_STATES, STATEMENTS, statementOrder, VIOLATIONS, violationOrder } from '../support/lists';

/** Every page in turn, `limit` rows at a time, until a page says it is the last. */
async function pageAll<R>(read: (after: Position | undefined, limit: number) => Promise<KeysetPage<R>>, limit: number): Promise<R[]> {
  const all: R[] = [];
  let after: Position | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await read(after, limit);
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    all.push(...page.rows);
    if (!page.next) return all;
    after = page.next;
  }
  throw new Error('paging did not end');
}

const LIMITS = [1, 2, 3, 7, 200];

describe('list repositories (keyset pagination)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
    await seedLists(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('verification queue: the earliest deadline first, none last, ties by id', () => {
    test.each(LIMITS)('paged %i at a time: every case once, in order (ties and one-microsecond differences included)', async (limit) => {
      const queue = createVerificationQueue(t.db);
      const ids = (await pageAll((a, n) => queue.page({}, a, n), limit)).map((c) => c.id);
      expect(ids).toEqual(queueOrder(CASES));
    });

    test.each([
      ['status', { status: 'in_review' }, (c: (typeof CASES)[number]) => c.status === 'in_review'],
      ['overdue', { overdue: true }, (c: (typeof CASES)[number]) => c.overdue],
      ['not overdue', { overdue: false }, (c: (typeof CASES)[number]) => !c.overdue],
      ['entity type', { entityType: 'enterprise' }, (c: (typeof CASES)[number]) => c.entityType === 'enterprise'],
      ['merchant', { merchantId: 'm-a' }, (c: (typeof CASES)[number]) => c.merchantId === 'm-a'],
      [
        'submitted range [from, to)',
        { submittedFrom: new Date('2026-03-01T05:00:00Z'), submittedTo: new Date('2026-03-06T08:00:00Z') },
        (c: (typeof CASES)[number]) => c.submittedAt >= '2026-03-01T05:00:00' && c.submittedAt < '2026-03-06T08:00:00',
      ],
    ])('filtered by %s, paged 2 at a time', async (_name, filters, keep) => {
      const queue = createVerificationQueue(t.db);
      const ids = (await pageAll((a, n) => queue.page(filters, a, n), 2)).map((c) => c.id);
      expect(ids).toEqual(queueOrder(CASES.filter(keep)));
      expect(ids.length).toBeGreaterThan(0);
    });

    test('the position keeps the microseconds: the page after the first of two deadlines one microsecond apart starts at the second', async () => {
      const queue = createVerificationQueue(t.db);
      const first = await queue.page({ status: 'in_review', overdue: false, submittedFrom: new Date('2026-03-01T05:00:00Z'), submittedTo: new Date('2026-03-01T05:00:01Z') }, undefined, 5);
      expect(first.rows.map((r) => r.id)).toEqual(['vc_e000000005']);
      const afterF = await queue.page({}, [`2026-03-04T10:00:00.000001Z`, 'vc_f000000006'], 1);
      expect(afterF.rows.map((r) => r.id)).toEqual(['vc_e000000005']);
    });
  });

  describe('violations: the newest first, ties by id (descending)', () => {
    test.each(LIMITS)('paged %i at a time: every case once, in order', async (limit) => {
      const list = createViolationList(t.db);
      expect((await pageAll((a, n) => list.page({}, a, n), limit)).map((c) => c.id)).toEqual(violationOrder(VIOLATIONS));
    });

    test.each([
      ['needs_attention: a step waits for ops', { status: 'needs_attention' as const }, ['vio_000000000000000000000003']],
      ['appealed as shown: the case waiting for ops shows needs_attention instead', { status: 'appealed' as const }, ['vio_000000000000000000000002']],
      ['in_effect: an answered wait shows its status again', { status: 'in_effect' as const }, ['vio_000000000000000000000004']],
      ['appeal pending', { appealPending: true }, ['vio_000000000000000000000003', 'vio_000000000000000000000002']],
      ['level', { level: 'serious' as const }, ['vio_000000000000000000000002', 'vio_000000000000000000000004']],
      ['type', { type: 'price_violation' as const }, ['vio_000000000000000000000007', 'vio_000000000000000000000002']],
      ['shop', { shopId: 'shop-a' }, ['vio_000000000000000000000001', 'vio_000000000000000000000004']],
    ])('filtered by %s', async (_name, filters, expected) => {
      const list = createViolationList(t.db);
      expect((await pageAll((a, n) => list.page(filters, a, n), 1)).map((c) => c.id)).toEqual(expected);
    });

    test('a case opened while paging neither repeats nor shifts what comes after the cursor', async () => {
      const list = createViolationList(t.db);
      const first = await list.page({ merchantId: 'm-b' }, undefined, 1);
      expect(first.rows.map((r) => r.id)).toEqual(['vio_000000000000000000000007']);
      await t.db('violation_cases').insert({ id: 'vio_0000000000000000000000ff', merchant_id: 'm-b', shop_id: 'shop-b', level: 'general', type: 'other', status: 'appealable', opened_at: '2026-03-10T00:00:00Z' });
      const rest = await pageAll((a, n) => list.page({ merchantId: 'm-b' }, a ?? first.next!, n), 1);
      expect(rest.map((r) => r.id)).toEqual(['vio_000000000000000000000002']);
      await t.db('violation_cases').where({ id: 'vio_0000000000000000000000ff' }).delete();
    });
  });

  describe('shops with their deposit state', () => {
    test.each([1, 4])('paged %i at a time: every shop once, by id, in its deposit state', async (limit) => {
      const list = createShopList(t.db);
      const shops = await pageAll((a, n) => list.page({}, a, n), limit);
      expect(Object.fromEntries(shops.map((s) => [s.id, s.deposit_state]))).toEqual(SHOP_STATES);
      expect(shops.map((s) => s.id)).toEqual(Object.keys(SHOP_STATES).sort());
    });

    test('a shortfall shows the requirement, what is owed, what is missing, the episode and its last ladder step', async () => {
      const [b] = (await createShopList(t.db).page({ depositState: 'shortfall' }, undefined, 10)).rows;
      expect(b).toMatchObject({
        id: 'shop-b',
        required_fen: 50_000,
        balance_fen: 0,
        owed_fen: 10_000,
        shortfall_fen: 60_000,
        episode_id: 'ep-b',
        ladder_step: 'close_cart',
        restrictions: ['cart'],
      });
    });

    test.each(Object.entries({ open: ['shop-a'], shortfall: ['shop-b'], closing: ['shop-c'], closed: ['shop-d'], awaiting_deposit: ['shop-e', 'shop-f'] }))(
      'depositState=%s',
      async (state, expected) => {
        const list = createShopList(t.db);
        expect((await pageAll((a, n) => list.page({ depositState: state as 'open' }, a, n), 1)).map((s) => s.id)).toEqual(expected);
      },
    );
  });

  describe('settlement runs and statements', () => {
    test.each(LIMITS)('statements paged %i at a time: the latest period first, then by merchant', async (limit) => {
      const lists = createSettlementLists(t.db);
      const rows = await pageAll((a, n) => lists.statements({}, a, n), limit);
      expect(rows.map((s) => `${s.merchantId}/${s.period}`)).toEqual(statementOrder(STATEMENTS));
    });

    test('statements filtered by merchant, period, status', async () => {
      const lists = createSettlementLists(t.db);
      const keys = async (f: Parameters<typeof lists.statements>[0]) => (await pageAll((a, n) => lists.statements(f, a, n), 2)).map((s) => `${s.merchantId}/${s.period}`);
      expect(await keys({ merchantId: 'm-a' })).toEqual(['m-a/2026-02', 'm-a/2026-01', 'm-a/2025-12']);
      expect(await keys({ period: '2026-02' })).toEqual(['m-a/2026-02', 'm-b/2026-02', 'm-c/2026-02', 'm-d/2026-02']);
      expect(await keys({ status: 'carried' })).toEqual(['m-b/2026-02']);
    });

    test('runs, the latest period first, with the count of merchants missing a fee rate', async () => {
      const lists = createSettlementLists(t.db);
      const runs = await pageAll((a, n) => lists.runs({}, a, n), 1);
      expect(runs.map((r) => [r.period, r.status, Number(r.failure_count)])).toEqual(
        [...RUNS].reverse().map((r) => [r.period, r.status, r.failures.length]),
      );
      expect((await pageAll((a, n) => lists.runs({ status: 'running' }, a, n), 1)).map((r) => r.period)).toEqual(['2026-02']);
    });
  });

  describe('indexes (migration 018)', () => {
    test('exist', async () => {
      const { rows } = (await t.db.raw('SELECT indexname FROM pg_indexes WHERE indexname = ANY(?)', [LIST_INDEXES])) as { rows: Array<{ indexname: string }> };
      expect(rows.map((r) => r.indexname).sort()).toEqual([...LIST_INDEXES].sort());
    });

    /** The plan of a page after a cursor with scans that cannot keep order priced out (the seed is tiny): an index must serve both its range and its order. */
    async function planOf(build: () => ReturnType<typeof keysetQuery>): Promise<string> {
      return t.db.transaction(async (trx) => {
        for (const setting of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort']) await trx.raw(`SET LOCAL ${setting} = off`);
        const { rows } = (await trx.raw(`EXPLAIN ${build().toString()}`)) as { rows: Array<{ 'QUERY PLAN': string }> };
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    }

    test.each([
      ['the review queue', 'verification_cases_queue_idx', () => keysetQuery(t.db, t.db('verification_cases').select('id'), VERIFICATION_QUEUE_ORDER, ['2026-03-04T10:00:00.000001Z', 'vc_f000000006'], 50)],
      [
        'the review queue of one status',
        'verification_cases_status_queue_idx',
        () => keysetQuery(t.db, t.db('verification_cases').select('id').where('status', 'in_review'), VERIFICATION_QUEUE_ORDER, ['2026-03-04T10:00:00.000001Z', 'vc_f000000006'], 50),
      ],
      ['violations', 'violation_cases_opened_idx', () => keysetQuery(t.db, t.db('violation_cases as c').select('c.id'), VIOLATION_LIST_ORDER, ['2026-03-03T02:00:00.000000Z', 'vio_000000000000000000000002'], 50)],
      [
        'violations of one status',
        'violation_cases_status_opened_idx',
        () => keysetQuery(t.db, t.db('violation_cases as c').select('c.id').where('c.status', 'appealed'), VIOLATION_LIST_ORDER, ['2026-03-03T02:00:00.000000Z', 'vio_000000000000000000000002'], 50),
      ],
      ['statements', 'statements_period_merchant_idx', () => keysetQuery(t.db, t.db('statements').select('merchant_id'), STATEMENT_LIST_ORDER, ['2026-02', 'm-b'], 50)],
    ])('%s: a page after a cursor is read from %s, without sorting', async (_name, index, build) => {
      const plan = await planOf(build);
      expect(plan).toContain(index);
      expect(plan).not.toMatch(/\bSort\b/);
    });
  });
});
