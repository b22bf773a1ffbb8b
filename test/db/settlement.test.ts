import type { Knex } from 'knex';
import { NothingPayableError, createPayoutRepository, payoutKey } from '../../db/repositories/settlement/payouts';
import { createSettlementQueries } from '../../db/repositories/settlement/queries';
import { SettlementValidationError } from '../../db/repositories/settlement/records';
import { createSettlementRunRepository } from '../../db/repositories/settlement/runs';
import { SettlementConflictError, createStatementRepository } from '../../db/repositories/settlement/statements';
import { periodBounds, periodOf } from '../../domain/settlement';
import { createTestDb, type TestDb } from '../support/db';

const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };
const RATES: Record<string, { union: number; channel: number }> = {
  apparel: { union: 1000, channel: 300 },
  beauty: { union: 1500, channel: 400 },
  digital: { union: 800, channel: 200 },
};

/** A wall-clock time in Shanghai (UTC+8, no daylight saving since 1991). */
const shanghai = (local: string) => new Date(`${local}+08:00`);

/** Reference rounding, independent of the SQL: half-up to the fen, per line. */
const feeOf = (amountFen: number, bp: number) => Math.round((amountFen * bp) / 10_000);

interface OrderInput {
  id: string;
  merchantId: string;
  amountFen: number;
  receivedAt: Date;
  category?: string;
  refundedAt?: Date;
}

let orderSeq = 0;
async function addOrders(db: Knex, orders: Array<Omit<OrderInput, 'id'> & { id?: string }>): Promise<string[]> {
  const rows = orders.map((o) => ({
    id: o.id ?? `ord-${++orderSeq}`,
    merchant_id: o.merchantId,
    shop_id: `shop-${o.merchantId}`,
    category: o.category ?? 'apparel',
    amount_fen: o.amountFen,
    status: o.refundedAt ? 'refunded' : 'receipt_confirmed',
    paid_at: new Date(o.receivedAt.getTime() - 3 * 86_400_000),
    receipt_confirmed_at: o.receivedAt,
    refunded_at: o.refundedAt ?? null,
  }));
  for (let i = 0; i < rows.length; i += 1000) await db('orders').insert(rows.slice(i, i + 1000));
  return rows.map((r) => r.id);
}

async function refund(db: Knex, orderId: string, at: Date): Promise<void> {
  await db('orders').where({ id: orderId }).update({ status: 'refunded', refunded_at: at });
}

async function orderMarks(db: Knex, ids: string[]): Promise<Record<string, [string | null, string | null]>> {
  const rows = await db('orders').whereIn('id', ids).select('id', 'settled_period', 'refund_settled_period');
  return Object.fromEntries(rows.map((r) => [r.id, [r.settled_period, r.refund_settled_period]]));
}

describe('settlement repository', () => {
  let t: TestDb;
  let statements: ReturnType<typeof createStatementRepository>;
  let queries: ReturnType<typeof createSettlementQueries>;
  let runs: ReturnType<typeof createSettlementRunRepository>;
  let payouts: ReturnType<typeof createPayoutRepository>;
  /** Settles the merchants whose ids start with `${prefix}-` (ids compare bytewise here). */
  const settle = (prefix: string, period: string, thresholds = THRESHOLDS) =>
    statements.settleMerchantRange(period, `${prefix}-`, `${prefix}-~`, thresholds);

  beforeAll(async () => {
    t = await createTestDb();
    statements = createStatementRepository(t.db);
    queries = createSettlementQueries(t.db);
    runs = createSettlementRunRepository(t.db);
    payouts = createPayoutRepository(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('fees are rounded half-up per line, as an independent JS reference rounds them, on random data', async () => {
    // mulberry32: the same "random" orders on every run.
    let state = 20261020;
    const random = () => {
      state = (state + 0x6d2b79f5) | 0;
      let x = Math.imul(state ^ (state >>> 15), 1 | state);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
    };
    const categories = Object.keys(RATES);
    // Amounts whose fee ends in exactly half a fen, and just either side of it.
    const edges = [1, 4, 5, 6, 15, 25, 35, 49, 50, 51, 125, 50_005, 12_345];
    const orders: OrderInput[] = [];
    for (let m = 1; m <= 40; m++) {
      const merchantId = `rnd-${String(m).padStart(3, '0')}`;
      const lines = 1 + Math.floor(random() * 40);
      for (let i = 0; i < lines; i++) {
        orders.push({
          id: `${merchantId}-${i}`,
          merchantId,
          category: categories[Math.floor(random() * categories.length)],
          amountFen: random() < 0.3 ? edges[Math.floor(random() * edges.length)] : 1 + Math.floor(random() * 300_000),
          receivedAt: new Date(shanghai('2026-10-01T00:00:00').getTime() + Math.floor(random() * 31 * 86_400_000)),
        });
      }
    }
    await addOrders(t.db, orders);

    const result = await settle('rnd', '2026-10');
    expect(result.statements).toBe(40);
    expect(result.missingRate).toEqual([]);

    let roundingTheSumWouldDiffer = 0;
    for (let m = 1; m <= 40; m++) {
      const merchantId = `rnd-${String(m).padStart(3, '0')}`;
      const lines = orders.filter((o) => o.merchantId === merchantId);
      const gmv = lines.reduce((s, o) => s + o.amountFen, 0);
      const unionFee = lines.reduce((s, o) => s + feeOf(o.amountFen, RATES[o.category!].union), 0);
      const channelFee = lines.reduce((s, o) => s + feeOf(o.amountFen, RATES[o.category!].channel), 0);
      const net = gmv - unionFee - channelFee;
      const statement = await queries.statement(merchantId, '2026-10');
      expect(statement).toMatchObject({
        gmvFen: gmv,
        unionFeeFen: unionFee,
        channelFeeFen: channelFee,
        netFen: net,
        lineCount: lines.length,
        payoutFen: net >= 10_000 ? net : 0,
        carriedOutFen: net >= 10_000 ? 0 : net,
        status: net >= 10_000 ? 'payable' : 'carried',
      });
      const exactUnion = lines.reduce((s, o) => s + (o.amountFen * RATES[o.category!].union) / 10_000, 0);
      if (Math.round(exactUnion) !== unionFee) roundingTheSumWouldDiffer++;
    }
    // The data is rich enough that rounding once per statement would give other figures.
    expect(roundingTheSumWouldDiffer).toBeGreaterThan(0);
    expect(result.totals.gmvFen).toBe(orders.reduce((s, o) => s + o.amountFen, 0));
  });

  test('the month ends at midnight Shanghai time, and each line takes the rate of its Shanghai receipt date', async () => {
    await t.db('fee_rates').insert([
      { category: 'luggage', effective_from: '2020-01-01', union_fee_bp: 1000, channel_share_bp: 300 },
      { category: 'luggage', effective_from: '2026-11-01', union_fee_bp: 2000, channel_share_bp: 500 },
    ]);
    const [first, last, next] = await addOrders(t.db, [
      { merchantId: 'bnd-1', category: 'luggage', amountFen: 100_000, receivedAt: shanghai('2026-10-01T00:00:00.000') },
      { merchantId: 'bnd-1', category: 'luggage', amountFen: 200_000, receivedAt: shanghai('2026-10-31T23:59:59.999') },
      { merchantId: 'bnd-1', category: 'luggage', amountFen: 400_000, receivedAt: shanghai('2026-11-01T00:00:00.000') },
    ]);

    await settle('bnd', '2026-10');
    expect(await queries.statement('bnd-1', '2026-10')).toMatchObject({
      gmvFen: 300_000,
      unionFeeFen: 30_000,
      channelFeeFen: 9_000,
      lineCount: 2,
    });
    expect(await orderMarks(t.db, [first, last, next])).toEqual({
      [first]: ['2026-10', null],
      [last]: ['2026-10', null],
      [next]: [null, null],
    });

    await settle('bnd', '2026-11');
    expect(await queries.statement('bnd-1', '2026-11')).toMatchObject({ gmvFen: 400_000, unionFeeFen: 80_000, channelFeeFen: 20_000, lineCount: 1 });
    expect((await orderMarks(t.db, [next]))[next]).toEqual(['2026-11', null]);
  });

  test('a category without a rate holds back only the merchant selling it, until a rate exists', async () => {
    const heldBack = await addOrders(t.db, [
      { merchantId: 'rate-1', amountFen: 50_000, receivedAt: shanghai('2026-10-05T10:00:00') },
      { merchantId: 'rate-1', category: 'pets', amountFen: 30_000, receivedAt: shanghai('2026-10-06T10:00:00') },
    ]);
    await addOrders(t.db, [{ merchantId: 'rate-2', amountFen: 50_000, receivedAt: shanghai('2026-10-05T10:00:00') }]);

    const result = await settle('rate', '2026-10');
    expect(result.statements).toBe(1);
    expect(result.missingRate).toEqual([{ merchantId: 'rate-1', category: 'pets' }]);
    expect(await queries.statement('rate-1', '2026-10')).toBeUndefined();
    expect(await queries.statement('rate-2', '2026-10')).toMatchObject({ gmvFen: 50_000, status: 'payable' });
    expect(Object.values(await orderMarks(t.db, heldBack))).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(await queries.merchantsToSettle('2026-10', 'rate-', 1000)).toContain('rate-1');

    await t.db('fee_rates').insert({ category: 'pets', effective_from: '2026-01-01', union_fee_bp: 1200, channel_share_bp: 300 });
    const retried = await settle('rate', '2026-10');
    expect(retried).toMatchObject({ statements: 1, missingRate: [], linesMarked: 2 });
    expect(await queries.statement('rate-1', '2026-10')).toMatchObject({ gmvFen: 80_000, unionFeeFen: 5_000 + 3_600, channelFeeFen: 1_500 + 900 });
  });

  test('below the threshold the net carries forward, and is paid with the next period', async () => {
    await addOrders(t.db, [
      { merchantId: 'carry-1', amountFen: 6_000, receivedAt: shanghai('2026-10-10T12:00:00') },
      { merchantId: 'carry-2', amountFen: 3_000, receivedAt: shanghai('2026-10-10T12:00:00') },
    ]);
    await settle('carry', '2026-10');
    // 6,000 − 600 − 180 = 5,220 fen: below 100 CNY.
    expect(await queries.statement('carry-1', '2026-10')).toMatchObject({ netFen: 5_220, payoutFen: 0, carriedOutFen: 5_220, status: 'carried' });

    await addOrders(t.db, [{ merchantId: 'carry-1', amountFen: 8_000, receivedAt: shanghai('2026-11-02T09:00:00') }]);
    // carry-2 sold nothing in November: its balance alone makes it a merchant to settle.
    expect(await queries.merchantsToSettle('2026-11', 'carry-', 1000)).toEqual(expect.arrayContaining(['carry-1', 'carry-2']));
    await settle('carry', '2026-11');
    expect(await queries.statement('carry-1', '2026-11')).toMatchObject({
      gmvFen: 8_000,
      carriedInFen: 5_220,
      netFen: 6_960 + 5_220,
      payoutFen: 12_180,
      carriedOutFen: 0,
      status: 'payable',
    });
    expect(await queries.statement('carry-2', '2026-11')).toMatchObject({ lineCount: 0, carriedInFen: 2_610, netFen: 2_610, carriedOutFen: 2_610 });

    // Thresholds are both checked: the higher one decides.
    await addOrders(t.db, [{ merchantId: 'carry-3', amountFen: 20_000, receivedAt: shanghai('2026-10-10T12:00:00') }]);
    await settle('carry', '2026-10', { unionFen: 10_000, shopFen: 20_000 });
    expect(await queries.statement('carry-3', '2026-10')).toMatchObject({ netFen: 17_400, status: 'carried' });
  });

  test('a refund after settlement is a negative line in the next statement; a refund before it is never settled', async () => {
    const [sold, refundedEarly] = await addOrders(t.db, [
      { merchantId: 'ref-1', amountFen: 50_000, receivedAt: shanghai('2026-10-10T12:00:00') },
      { merchantId: 'ref-1', amountFen: 30_000, receivedAt: shanghai('2026-10-12T12:00:00'), refundedAt: shanghai('2026-10-15T12:00:00') },
    ]);
    await settle('ref', '2026-10');
    expect(await queries.statement('ref-1', '2026-10')).toMatchObject({ gmvFen: 50_000, lineCount: 1, payoutFen: 43_500 });

    await refund(t.db, sold, shanghai('2026-11-03T08:00:00'));
    await addOrders(t.db, [{ merchantId: 'ref-1', amountFen: 20_000, receivedAt: shanghai('2026-11-05T12:00:00') }]);
    await settle('ref', '2026-11');
    // Taken back as settled: 50,000 − 5,000 − 1,500.
    expect(await queries.statement('ref-1', '2026-11')).toMatchObject({
      gmvFen: 20_000,
      refundsFen: 43_500,
      netFen: 17_400 - 43_500,
      payoutFen: 0,
      carriedOutFen: -26_100,
      lineCount: 2,
      status: 'carried',
    });
    expect(await orderMarks(t.db, [sold, refundedEarly])).toEqual({ [sold]: ['2026-10', '2026-11'], [refundedEarly]: [null, null] });

    await addOrders(t.db, [{ merchantId: 'ref-1', amountFen: 100_000, receivedAt: shanghai('2026-12-05T12:00:00') }]);
    await settle('ref', '2026-12');
    expect(await queries.statement('ref-1', '2026-12')).toMatchObject({ refundsFen: 0, carriedInFen: -26_100, netFen: 87_000 - 26_100, status: 'payable' });
  });

  test('a closing merchant’s final statement pays a net below the threshold, owes a negative one, and carries nothing', async () => {
    // fin-1: 5,220 fen carried from October, 6,000 more confirmed in November before closing.
    await addOrders(t.db, [{ merchantId: 'fin-1', amountFen: 6_000, receivedAt: shanghai('2026-10-10T12:00:00') }]);
    await settle('fin', '2026-10');
    await addOrders(t.db, [{ merchantId: 'fin-1', amountFen: 6_000, receivedAt: shanghai('2026-11-03T12:00:00') }]);
    const paid = await statements.settleMerchantFinal('fin-1', '2026-11');
    expect(paid).toEqual({ missingRate: [], statement: expect.objectContaining({ kind: 'final', carriedInFen: 5_220, netFen: 10_440, payoutFen: 10_440, carriedOutFen: 0, owedFen: 0, status: 'payable' }) });
    // Called again (a retried activity), it answers the same statement and settles nothing more.
    expect(await statements.settleMerchantFinal('fin-1', '2026-11')).toEqual(paid);

    // fin-2: a settled order refunded after its statement, and nothing left to sell.
    const [sold] = await addOrders(t.db, [{ merchantId: 'fin-2', amountFen: 50_000, receivedAt: shanghai('2026-10-10T12:00:00') }]);
    await settle('fin', '2026-10');
    await refund(t.db, sold!, shanghai('2026-11-04T12:00:00'));
    expect((await statements.settleMerchantFinal('fin-2', '2026-11')).statement).toMatchObject({
      kind: 'final',
      refundsFen: 43_500,
      netFen: -43_500,
      payoutFen: 0,
      carriedOutFen: 0,
      owedFen: 43_500,
      status: 'carried',
    });

    // The month's run finds both settled already, and nothing is carried into December.
    expect(await queries.merchantsToSettle('2026-11', 'fin-', 10)).toEqual([]);
    expect(await settle('fin', '2026-11')).toMatchObject({ statements: 0 });
    expect(await queries.merchantsToSettle('2026-12', 'fin-', 10)).toEqual([]);
    // The database refuses an owed amount on a monthly statement and a carry on a final one.
    await expect(t.db('statements').where({ merchant_id: 'fin-2', period: '2026-11' }).update({ kind: 'monthly' })).rejects.toThrow(/statements_balance_check/);
  });

  test('false advertising forfeits the period’s net but not the balance carried in; an ended flag forfeits nothing', async () => {
    await addOrders(t.db, [
      { merchantId: 'ff-1', amountFen: 6_000, receivedAt: shanghai('2026-10-10T12:00:00') },
      { merchantId: 'ff-2', amountFen: 6_000, receivedAt: shanghai('2026-10-10T12:00:00') },
    ]);
    await settle('ff', '2026-10');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await t.db('merchant_flags').insert([
      { merchant_id: 'ff-1', flag: 'forfeit_unsettled', since: hourAgo },
      { merchant_id: 'ff-2', flag: 'forfeit_unsettled', since: new Date(Date.now() - 86_400_000), until: hourAgo },
    ]);
    await addOrders(t.db, [
      { merchantId: 'ff-1', amountFen: 200_000, receivedAt: shanghai('2026-11-10T12:00:00') },
      { merchantId: 'ff-2', amountFen: 200_000, receivedAt: shanghai('2026-11-10T12:00:00') },
    ]);
    await settle('ff', '2026-11');
    expect(await queries.statement('ff-1', '2026-11')).toMatchObject({
      gmvFen: 200_000,
      forfeitedFen: 174_000,
      carriedInFen: 5_220,
      netFen: 5_220,
      payoutFen: 0,
      status: 'carried',
    });
    expect(await queries.statement('ff-2', '2026-11')).toMatchObject({ forfeitedFen: 0, netFen: 174_000 + 5_220, status: 'payable' });

    // The statement used the flag up and kept what it forfeited; December's commission is paid.
    expect(await t.db('merchant_flags').where({ merchant_id: 'ff-1' }).first()).toMatchObject({ consumed_period: '2026-11', forfeited_fen: 174_000 });
    await addOrders(t.db, [{ merchantId: 'ff-1', amountFen: 200_000, receivedAt: shanghai('2026-12-10T12:00:00') }]);
    await settle('ff', '2026-12');
    expect(await queries.statement('ff-1', '2026-12')).toMatchObject({ forfeitedFen: 0, netFen: 174_000 + 5_220, status: 'payable' });
  });

  test('settling twice writes one statement per merchant and marks each order once, also when the calls race', async () => {
    const ids = await addOrders(
      t.db,
      ['idem-1', 'idem-2', 'idem-3'].flatMap((merchantId) => [
        { merchantId, amountFen: 40_000, receivedAt: shanghai('2026-10-08T12:00:00') },
        { merchantId, amountFen: 70_000, receivedAt: shanghai('2026-10-09T12:00:00') },
      ]),
    );
    const first = await settle('idem', '2026-10');
    expect(first).toMatchObject({ statements: 3, linesMarked: 6, totals: { gmvFen: 330_000, lineCount: 6 } });
    const again = await settle('idem', '2026-10');
    expect(again).toMatchObject({ statements: 0, linesMarked: 0, missingRate: [], totals: { gmvFen: 0, payoutFen: 0 } });
    expect(await queries.statementsOf('idem-1')).toHaveLength(1);
    expect(Object.values(await orderMarks(t.db, ids)).every(([settled, refunded]) => settled === '2026-10' && refunded === null)).toBe(true);

    // An October order that reaches us after October was settled waits for November's
    // statement: the October one is never reopened.
    const [late] = await addOrders(t.db, [{ merchantId: 'idem-1', amountFen: 90_000, receivedAt: shanghai('2026-10-31T20:00:00') }]);
    expect(await queries.merchantsToSettle('2026-10', 'idem-', 10)).not.toContain('idem-1');
    expect(await settle('idem', '2026-10')).toMatchObject({ statements: 0, linesMarked: 0 });
    expect(await queries.merchantsToSettle('2026-11', 'idem-', 1)).toEqual(['idem-1']);
    await settle('idem', '2026-11');
    expect(await queries.statement('idem-1', '2026-11')).toMatchObject({ gmvFen: 90_000, lineCount: 1 });
    expect((await orderMarks(t.db, [late]))[late]).toEqual(['2026-11', null]);

    await addOrders(
      t.db,
      Array.from({ length: 30 }, (_, i) => ({ merchantId: `race-${i % 10}`, amountFen: 30_000, receivedAt: shanghai('2026-10-20T12:00:00') })),
    );
    const racing = await Promise.all([settle('race', '2026-10'), settle('race', '2026-10'), settle('race', '2026-10')]);
    expect(racing.reduce((s, r) => s + r.statements, 0)).toBe(10);
    expect(racing.reduce((s, r) => s + r.linesMarked, 0)).toBe(30);
    const { rows } = (await t.db.raw(`SELECT COUNT(*)::int AS n FROM statements WHERE merchant_id LIKE 'race-%'`)) as { rows: Array<{ n: number }> };
    expect(rows[0].n).toBe(10);
  });

  // PGlite has one connection, so the two transactions cannot overlap there.
  (process.env.DATABASE_URL ? test : test.skip)(
    'an order refunded while its range is being settled rolls the range back instead of paying it',
    async () => {
      const [contested] = await addOrders(t.db, [
        { merchantId: 'cfl-1', amountFen: 50_000, receivedAt: shanghai('2026-10-08T12:00:00') },
        { merchantId: 'cfl-1', amountFen: 60_000, receivedAt: shanghai('2026-10-09T12:00:00') },
      ]);
      const refunding = await t.db.transaction();
      await refunding('orders').where({ id: contested }).update({ status: 'refunded', refunded_at: shanghai('2026-10-20T12:00:00') });
      const settling = settle('cfl', '2026-10').then(
        (r) => r,
        (e: unknown) => e,
      );
      // Commit the refund only once the settlement waits on the refunded order's row lock.
      for (let waiting = 0; waiting === 0; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const { rows } = (await t.db.raw(
          `SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )) as { rows: Array<{ n: number }> };
        waiting = rows[0].n;
      }
      await refunding.commit();
      expect(await settling).toBeInstanceOf(SettlementConflictError);
      expect(await queries.statement('cfl-1', '2026-10')).toBeUndefined();

      expect(await settle('cfl', '2026-10')).toMatchObject({ statements: 1, linesMarked: 1, totals: { gmvFen: 60_000 } });
    },
  );

  test('a payout is recorded once per statement and paid once', async () => {
    await addOrders(t.db, [
      { merchantId: 'pay-1', amountFen: 100_000, receivedAt: shanghai('2026-10-08T12:00:00') },
      { merchantId: 'pay-2', amountFen: 100_000, receivedAt: shanghai('2026-10-08T12:00:00') },
      { merchantId: 'pay-3', amountFen: 1_000, receivedAt: shanghai('2026-10-08T12:00:00') },
    ]);
    await settle('pay', '2026-10');
    const payable = () => t.db('statements').where({ period: '2026-10', status: 'payable' }).whereLike('merchant_id', 'pay-%').whereNull('payout_id').orderBy('merchant_id');
    expect((await payable()).map((r) => [r.merchant_id, Number(r.payout_fen)])).toEqual([
      ['pay-1', 87_000],
      ['pay-2', 87_000],
    ]);

    const requested = await payouts.recordPayoutRequested('pay-1', '2026-10');
    expect(requested).toMatchObject({ created: true, payout: { idempotencyKey: payoutKey('pay-1', '2026-10'), amountFen: 87_000, status: 'requested' } });
    expect(await payouts.recordPayoutRequested('pay-1', '2026-10')).toMatchObject({ created: false, payout: { amountFen: 87_000 } });
    expect((await payable()).map((r) => r.merchant_id)).toEqual(['pay-2']);
    await expect(payouts.recordPayoutRequested('pay-3', '2026-10')).rejects.toThrow(NothingPayableError);

    const paidAt = new Date('2026-11-20T02:00:00Z');
    expect(await payouts.markPayoutPaid('settle:pay-1:2026-10', { platformPayoutId: 'ks-po-1', paidAt })).toMatchObject({
      status: 'paid',
      paidAt,
      platformPayoutId: 'ks-po-1',
    });
    const repeated = await payouts.markPayoutPaid('settle:pay-1:2026-10', { platformPayoutId: 'ks-po-2', paidAt: new Date() });
    expect(repeated).toMatchObject({ paidAt, platformPayoutId: 'ks-po-1' });
    expect(await queries.statement('pay-1', '2026-10')).toMatchObject({ status: 'paid', payoutId: 'settle:pay-1:2026-10' });

    // The database holds the line too: one payout per merchant and period, under its business key.
    await expect(
      t.db('payouts').insert({ idempotency_key: 'other', merchant_id: 'pay-1', period: '2026-10', amount_fen: 1, status: 'requested' }),
    ).rejects.toThrow(/payouts_key_check|payouts_merchant_id_period_unique/);
  });

  test('a run is opened once, keeps cumulative progress, and a failed run can be reopened', async () => {
    expect(await runs.startRun('2026-10', { workflowId: 'Settlement:2026-10' })).toMatchObject({
      started: true,
      run: { status: 'running', merchantsDone: 0, failures: [], totals: {}, workflowId: 'Settlement:2026-10' },
    });
    expect(await runs.startRun('2026-10')).toMatchObject({ started: false, run: { status: 'running' } });
    await runs.recordProgress('2026-10', { merchantsDone: 500, merchantsTotal: 1200, failures: [{ range: 'a..b' }] });
    // The totals are the period's stored statements (earlier tests of this suite settled some).
    const stored = await queries.periodTotals('2026-10');
    expect(stored.statements).toBeGreaterThan(0);
    expect(await runs.run('2026-10')).toMatchObject({ merchantsDone: 500, merchantsTotal: 1200, totals: stored, failures: [{ range: 'a..b' }] });

    const failed = await runs.completeRun('2026-10', { status: 'failed' });
    expect(failed.completedAt).toBeInstanceOf(Date);
    expect(await runs.startRun('2026-10', { workflowId: 'Settlement:2026-10:retry' })).toMatchObject({
      started: true,
      run: { status: 'running', completedAt: null, merchantsDone: 500, workflowId: 'Settlement:2026-10:retry' },
    });
    const done = await runs.completeRun('2026-10');
    expect(await runs.completeRun('2026-10')).toMatchObject({ status: 'completed', completedAt: done.completedAt, totals: stored });
    expect(await runs.run('2026-09')).toBeUndefined();
  });

  test('malformed periods and ranges are refused before any SQL runs', async () => {
    await expect(statements.settleMerchantRange('2026-13', '', null, THRESHOLDS)).rejects.toThrow(SettlementValidationError);
    await expect(statements.settleMerchantRange('2026-10', 'b', 'a', THRESHOLDS)).rejects.toThrow(/empty merchant range/);
    await expect(statements.settleMerchantRange('2026-10', '', null, { unionFen: -1, shopFen: 0 })).rejects.toThrow(SettlementValidationError);
    await expect(queries.merchantsToSettle('26-10', '', 10)).rejects.toThrow(SettlementValidationError);
  });

  test('a final statement in the month that has not ended covers the shop’s last days, through the closure', async () => {
    // The closure settles now: the current month, which no monthly run may settle yet.
    const now = new Date();
    const current = periodOf(now);
    const lastMonth = periodOf(new Date(periodBounds(current).start.getTime() - 1));
    const [earlier, lastDay] = await addOrders(t.db, [
      { merchantId: 'fz-1', amountFen: 100_000, receivedAt: new Date(periodBounds(lastMonth).start.getTime() + 86_400_000) },
      { merchantId: 'fz-1', amountFen: 50_000, receivedAt: new Date(now.getTime() - 60_000) },
    ]);
    const { statement } = await statements.settleMerchantFinal('fz-1', current);
    expect(statement).toMatchObject({ kind: 'final', gmvFen: 150_000, lineCount: 2, payoutFen: 87_000 + 43_500 });
    expect(await orderMarks(t.db, [earlier!, lastDay!])).toEqual({ [earlier!]: [current, null], [lastDay!]: [current, null] });
    // Last month's run, later, finds the merchant settled and adds nothing.
    await settle('fz', lastMonth);
    expect(await queries.statement('fz-1', lastMonth)).toBeUndefined();
  });
});
