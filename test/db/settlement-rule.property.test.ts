import fc from 'fast-check';
import type { Knex } from 'knex';
import { createSettlementRepository, type SettlementRepository, type Statement } from '../../db/repositories/settlement';
import { createViolationRepository } from '../../db/repositories/violations';
import { DEFAULT_FEE_RATES, DEFAULT_SETTLEMENT_THRESHOLDS, computeStatement, lineFees, periodBounds } from '../../domain/settlement';
import { createTestDb, type TestDb } from '../support/db';

/**
 * domain/settlement.ts computeStatement is the specification of a statement's figures; the
 * set-based SQL production runs must agree with it on random merchants: orders over four
 * months, refunds before and after settlement (of forfeited lines too), false-advertising
 * flags raised and upheld between runs. The model below only picks each period's lines (which
 * orders are sold, which refunds are due, whether the line's commission was forfeited) and
 * hands the sums to computeStatement; it never computes a figure itself.
 */

const PERIODS = ['2026-07', '2026-08', '2026-09', '2026-10'];
const DAY = 86_400_000;
const bounds = PERIODS.map(periodBounds);
/** Each period is settled five days after it ends (refunds up to then are known). */
const settledAt = bounds.map((b) => b.end.getTime() + 5 * DAY);

interface OrderSpec {
  amountFen: number;
  category: 'apparel' | 'beauty' | 'digital';
  periodIndex: number;
  minuteOfPeriod: number;
  /** Days after receipt; undefined: never refunded. */
  refundAfterDays: number | undefined;
}
interface FlagSpec {
  /** Raised before settling PERIODS[raisedBefore]. */
  raisedBefore: number;
  /** Upheld before settling PERIODS[i] (PERIODS.length: after the last run), or never. */
  upheldBefore: number | undefined;
}
interface MerchantSpec {
  orders: OrderSpec[];
  flags: FlagSpec[];
}

const orderArb = fc.record({
  amountFen: fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom(1, 5, 9_999, 10_000, 10_001, 76_923)),
  category: fc.constantFrom('apparel' as const, 'beauty' as const, 'digital' as const),
  periodIndex: fc.integer({ min: 0, max: PERIODS.length - 1 }),
  minuteOfPeriod: fc.integer({ min: 0, max: 28 * 24 * 60 - 1 }),
  refundAfterDays: fc.option(fc.integer({ min: 0, max: 130 }), { nil: undefined }),
});
const flagArb = fc
  .record({ raisedBefore: fc.integer({ min: 0, max: PERIODS.length - 1 }), upheldAfter: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) })
  .map(({ raisedBefore, upheldAfter }) => ({
    raisedBefore,
    upheldBefore: upheldAfter === undefined ? undefined : Math.min(PERIODS.length, raisedBefore + 1 + upheldAfter),
  }));
const merchantArb = fc.record({ orders: fc.array(orderArb, { maxLength: 7 }), flags: fc.array(flagArb, { maxLength: 2 }) });

interface ModelOrder extends OrderSpec {
  id: string;
  receivedAt: Date;
  refundedAt: Date | undefined;
  settledPeriod?: string;
  refundStated?: boolean;
}
interface ModelFlag extends FlagSpec {
  caseId: string;
  consumedPeriod?: string;
  restored?: boolean;
}

const netOf = (o: ModelOrder) => {
  const fees = lineFees({ amountFen: o.amountFen, category: o.category, receiptConfirmedAt: o.receivedAt.toISOString() }, DEFAULT_FEE_RATES);
  return { gmvFen: o.amountFen, ...fees, netFen: o.amountFen - fees.unionFeeFen - fees.channelFeeFen };
};

/** What the SQL must have stated: computeStatement over the lines the rules pick. */
type Expected = ReturnType<typeof computeStatement>;

let runSeq = 0;

async function checkScenario(db: Knex, repo: SettlementRepository, merchants: MerchantSpec[]): Promise<void> {
  const run = ++runSeq;
  const violations = createViolationRepository(db);
  const ids = merchants.map((_, i) => `p${String(run).padStart(4, '0')}-${i}`);
  const orders: ModelOrder[][] = merchants.map((m, mi) =>
    m.orders.map((o, oi) => {
      const receivedAt = new Date(bounds[o.periodIndex]!.start.getTime() + o.minuteOfPeriod * 60_000);
      const refundedAt = o.refundAfterDays === undefined ? undefined : new Date(receivedAt.getTime() + o.refundAfterDays * DAY + 3_600_000);
      return { ...o, id: `${ids[mi]}-o${oi}`, receivedAt, refundedAt };
    }),
  );
  const flags: ModelFlag[][] = merchants.map((m, mi) => m.flags.map((f, fi) => ({ ...f, caseId: `${ids[mi]}-case${fi}` })));
  const rows = orders.flat().map((o) => ({
    id: o.id,
    merchant_id: o.id.slice(0, o.id.lastIndexOf('-o')),
    shop_id: `shop-${o.id}`,
    category: o.category,
    amount_fen: o.amountFen,
    status: 'receipt_confirmed',
    paid_at: new Date(o.receivedAt.getTime() - DAY),
    receipt_confirmed_at: o.receivedAt,
  }));
  if (rows.length > 0) await db('orders').insert(rows);

  const statements = new Map<string, Expected>();
  const carried = merchants.map(() => 0);
  const expectedRestores = new Map<string, number>();

  const restore = async (mi: number, flag: ModelFlag) => {
    const answer = await violations.restoreForfeitFlag(flag.caseId, new Date());
    let expected = 0;
    if (flag.consumedPeriod !== undefined) {
      const others = flags[mi]!.filter((f) => f !== flag && f.consumedPeriod === flag.consumedPeriod && !f.restored);
      if (others.length === 0) {
        const refundedNet = orders[mi]!.filter((o) => o.settledPeriod === flag.consumedPeriod && o.refundStated).reduce((s, o) => s + netOf(o).netFen, 0);
        expected = Math.max(0, statements.get(`${mi}:${flag.consumedPeriod}`)!.forfeitedFen - refundedNet);
      }
    }
    flag.restored = true;
    expectedRestores.set(flag.caseId, expected);
    expect({ caseId: flag.caseId, paidBack: answer?.forfeitedFen }).toEqual({ caseId: flag.caseId, paidBack: expected });
  };

  for (let p = 0; p <= PERIODS.length; p++) {
    const now = settledAt[Math.min(p, PERIODS.length - 1)]!;
    for (let mi = 0; mi < merchants.length; mi++) {
      for (const flag of flags[mi]!) if (flag.upheldBefore === p) await restore(mi, flag);
    }
    if (p === PERIODS.length) break;
    const period = PERIODS[p]!;
    const end = bounds[p]!.end.getTime();
    for (let mi = 0; mi < merchants.length; mi++) {
      for (const [fi, flag] of flags[mi]!.entries()) {
        if (flag.raisedBefore !== p) continue;
        await db('merchant_flags').insert({ merchant_id: ids[mi], flag: 'forfeit_unsettled', since: new Date(Date.now() - (fi + 1) * 60_000), case_id: flag.caseId });
      }
      const refundedNow = orders[mi]!.filter((o) => o.refundedAt && o.refundedAt.getTime() < now);
      for (const o of refundedNow) await db('orders').where({ id: o.id }).update({ status: 'refunded', refunded_at: o.refundedAt });
    }

    await repo.settleMerchantRange(period, `p${String(run).padStart(4, '0')}-`, `p${String(run).padStart(4, '0')}-~`, DEFAULT_SETTLEMENT_THRESHOLDS);

    for (let mi = 0; mi < merchants.length; mi++) {
      const refunded = (o: ModelOrder) => o.refundedAt !== undefined && o.refundedAt.getTime() < now;
      const sales = orders[mi]!.filter((o) => !o.settledPeriod && !refunded(o) && o.receivedAt.getTime() < end);
      const refunds = orders[mi]!.filter((o) => o.settledPeriod && !o.refundStated && o.refundedAt && o.refundedAt.getTime() < end);
      const forfeitureStands = (settled: string) =>
        statements.get(`${mi}:${settled}`)!.forfeitedFen > 0 && flags[mi]!.some((f) => f.consumedPeriod === settled && !f.restored);
      const active = flags[mi]!.filter((f) => f.raisedBefore <= p && !f.restored && f.consumedPeriod === undefined);
      const sum = (list: ModelOrder[], pick: (n: ReturnType<typeof netOf>) => number) => list.reduce((s, o) => s + pick(netOf(o)), 0);

      const actual = await repo.statement(ids[mi]!, period);
      if (sales.length === 0 && refunds.length === 0 && carried[mi] === 0) {
        expect({ merchant: ids[mi], period, statement: actual }).toEqual({ merchant: ids[mi], period, statement: undefined });
        continue;
      }
      const gmvFen = sum(sales, (n) => n.gmvFen);
      const expected = computeStatement({
        gmvFen,
        commissionFen: gmvFen,
        unionFeeFen: sum(sales, (n) => n.unionFeeFen),
        channelFeeFen: sum(sales, (n) => n.channelFeeFen),
        refundsOfSettledFen: sum(
          refunds.filter((o) => !forfeitureStands(o.settledPeriod!)),
          (n) => n.netFen,
        ),
        carriedForwardFen: carried[mi]!,
        forfeited: active.length > 0,
      });
      expect({ merchant: ids[mi], period, ...figures(actual) }).toEqual({ merchant: ids[mi], period, ...specFigures(expected) });

      statements.set(`${mi}:${period}`, expected);
      carried[mi] = expected.carryForwardFen;
      for (const o of sales) o.settledPeriod = period;
      for (const o of refunds) o.refundStated = true;
      for (const f of active) f.consumedPeriod = period;
      // The flags a statement used share its forfeiture once: their amounts sum to it.
      const shares = await db('merchant_flags').where({ merchant_id: ids[mi], consumed_period: period }).sum({ fen: 'forfeited_fen' }).first();
      if (active.length > 0) expect({ period, flagsSum: Number(shares?.fen ?? 0) }).toEqual({ period, flagsSum: expected.forfeitedFen });
    }
  }
  expect(expectedRestores.size).toBe(flags.flat().filter((f) => f.upheldBefore !== undefined).length);
}

function figures(s: Statement | undefined) {
  if (!s) return { statement: 'missing' };
  return {
    gmvFen: s.gmvFen,
    unionFeeFen: s.unionFeeFen,
    channelFeeFen: s.channelFeeFen,
    refundsFen: s.refundsFen,
    carriedInFen: s.carriedInFen,
    forfeitedFen: s.forfeitedFen,
    netFen: s.netFen,
    payoutFen: s.payoutFen,
    carriedOutFen: s.carriedOutFen,
  };
}

function specFigures(e: Expected) {
  return {
    gmvFen: e.gmvFen,
    unionFeeFen: e.unionFeeFen,
    channelFeeFen: e.channelFeeFen,
    refundsFen: e.refundsOfSettledFen,
    carriedInFen: e.carriedForwardFen,
    forfeitedFen: e.forfeitedFen,
    netFen: e.netPayableFen,
    payoutFen: e.payoutFen,
    carriedOutFen: e.carryForwardFen,
  };
}

describe('the settlement SQL agrees with computeStatement', () => {
  let t: TestDb;
  let repo: SettlementRepository;

  beforeAll(async () => {
    t = await createTestDb();
    repo = createSettlementRepository(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('on random orders, refunds, forfeiture flags and upheld appeals over four months', async () => {
    const seed = Number(process.env.SETTLEMENT_PROPERTY_SEED ?? 20261201);
    const numRuns = Number(process.env.SETTLEMENT_PROPERTY_RUNS ?? 60);
    await fc.assert(
      fc.asyncProperty(fc.array(merchantArb, { minLength: 1, maxLength: 3 }), (merchants) => checkScenario(t.db, repo, merchants)),
      { seed, numRuns, endOnFailure: true },
    );
  }, 120_000);
});
