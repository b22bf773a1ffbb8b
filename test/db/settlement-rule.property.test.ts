import fc from 'fast-check';
import type { Knex } from 'knex';
import { createSettlementQueries, type SettlementQueries } from '../../db/repositories/settlement/queries';
import type { Statement } from '../../db/repositories/settlement/records';
import { createStatementRepository, type MissingRate, type StatementRepository } from '../../db/repositories/settlement/statements';
import { createViolationRepository } from '../../db/repositories/violations';
import {
  DEFAULT_FEE_RATES,
  MissingFeeRateError,
  STATEMENT_FIGURES,
  computeStatement,
  forfeitureRepaidFen,
  lineFees,
  lineNetFen,
  periodBounds,
  type ComputedStatement,
  type FeeRate,
  type SettlementThresholds,
  type StatementKind,
} from '../../domain/settlement';
import { createTestDb, type TestDb } from '../support/db';

/**
 * domain/settlement.ts computeStatement is the specification of a statement's figures; the
 * set-based SQL production runs (db/repositories/settlement/statement-sql.ts) must agree with
 * it, figure by figure under the same names (STATEMENT_FIGURES), on random merchants:
 * - amounts: any up to 3,000 CNY, and the ones whose fees round at .5;
 * - categories: the seeded three, and two per scenario with their own rate history;
 * - rates by date: versions taking effect on a period's first day or within a period, orders
 *   confirmed in the minutes either side of Shanghai midnight on those days, and categories
 *   whose first rate comes late or never (the merchant gets no statement and is reported as
 *   missing a rate until a rate exists or the line is refunded);
 * - refunds before settlement (the line drops out) and after (a refund line, next statement),
 *   of forfeited lines too (they take nothing back while the forfeiture stands);
 * - carries: random thresholds (0 to 500 CNY, the union's and the shop's apart), so nets
 *   below them, and negative ones, carry from period to period;
 * - flags: false-advertising flags raised before a run, one or two per merchant, upheld
 *   between runs (the forfeiture paid back: forfeitureRepaidFen);
 * - final statements: a closing shop's merchant settled at once in some period.
 * The model below only picks each period's lines (which orders are sold, which refunds are
 * due, whether the line's commission was forfeited) and hands them to the domain functions;
 * it never computes a figure itself.
 */

const PERIODS = ['2026-07', '2026-08', '2026-09', '2026-10'];
const DAY = 86_400_000;
const MINUTE = 60_000;
const bounds = PERIODS.map(periodBounds);
/** Each period is settled five days after it ends (refunds up to then are known). */
const settledAt = bounds.map((b) => b.end.getTime() + 5 * DAY);
/** Days after 2026-07-01 on which rates change and orders land at midnight: period starts and mid-period days. */
const EDGE_DAYS = [0, 13, 31, 45, 62, 77, 92, 105];
const dayStart = (day: number) => bounds[0]!.start.getTime() + day * DAY;
const isoDay = (day: number) => new Date(Date.UTC(2026, 6, 1 + day)).toISOString().slice(0, 10);

type SeededCategory = 'apparel' | 'beauty' | 'digital';
/** x0 and x1: the scenario's own categories, with the rate histories it draws. */
type CategoryPick = SeededCategory | 'x0' | 'x1';

interface OrderSpec {
  amountFen: number;
  category: CategoryPick;
  /** Anywhere in a period, or minutes either side of Shanghai midnight on an edge day. */
  receipt: { periodIndex: number; minuteOfPeriod: number } | { edgeDay: number; minuteOffset: number };
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
  /** The shop closes: its merchant gets a final statement in PERIODS[finalAt] instead of the monthly one. */
  finalAt: number | undefined;
}
interface RateVersionSpec {
  edgeDay: number;
  unionFeeBp: number;
  channelShareBp: number;
}
interface CategoryRatesSpec {
  /** The version in force since 2020; undefined: the category's first rate is its first change (or it has none). */
  initial: { unionFeeBp: number; channelShareBp: number } | undefined;
  changes: RateVersionSpec[];
}
interface Scenario {
  merchants: MerchantSpec[];
  rates: [CategoryRatesSpec, CategoryRatesSpec];
  thresholds: SettlementThresholds;
}

const bpArb = (max: number) => fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(0, 1, 999, 1_000, 1_500));
const receiptArb = fc.oneof(
  { weight: 2, arbitrary: fc.record({ periodIndex: fc.integer({ min: 0, max: PERIODS.length - 1 }), minuteOfPeriod: fc.integer({ min: 0, max: 28 * 24 * 60 - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ edgeDay: fc.constantFrom(...EDGE_DAYS), minuteOffset: fc.integer({ min: -2, max: 2 }) }) },
);
const orderArb: fc.Arbitrary<OrderSpec> = fc.record({
  amountFen: fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom(1, 5, 9_999, 10_000, 10_001, 76_923)),
  category: fc.constantFrom<CategoryPick>('apparel', 'beauty', 'digital', 'x0', 'x1'),
  receipt: receiptArb,
  refundAfterDays: fc.option(fc.integer({ min: 0, max: 130 }), { nil: undefined }),
});
const flagArb: fc.Arbitrary<FlagSpec> = fc
  .record({ raisedBefore: fc.integer({ min: 0, max: PERIODS.length - 1 }), upheldAfter: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) })
  .map(({ raisedBefore, upheldAfter }) => ({
    raisedBefore,
    upheldBefore: upheldAfter === undefined ? undefined : Math.min(PERIODS.length, raisedBefore + 1 + upheldAfter),
  }));
const merchantArb: fc.Arbitrary<MerchantSpec> = fc.record({
  orders: fc.array(orderArb, { maxLength: 7 }),
  flags: fc.array(flagArb, { maxLength: 2 }),
  finalAt: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: PERIODS.length - 1 }) }),
});
const categoryRatesArb: fc.Arbitrary<CategoryRatesSpec> = fc.record({
  initial: fc.oneof(
    { weight: 5, arbitrary: fc.record({ unionFeeBp: bpArb(3_000), channelShareBp: bpArb(1_000) }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  changes: fc.uniqueArray(fc.record({ edgeDay: fc.constantFrom(...EDGE_DAYS), unionFeeBp: bpArb(3_000), channelShareBp: bpArb(1_000) }), {
    selector: (v) => v.edgeDay,
    maxLength: 2,
  }),
});
const thresholdFenArb = fc.oneof(fc.constantFrom(0, 1, 5_000, 10_000, 20_000), fc.integer({ min: 0, max: 50_000 }));
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  merchants: fc.array(merchantArb, { minLength: 1, maxLength: 3 }),
  rates: fc.tuple(categoryRatesArb, categoryRatesArb),
  thresholds: fc.record({ unionFen: thresholdFenArb, shopFen: thresholdFenArb }),
});

interface ModelOrder {
  id: string;
  amountFen: number;
  category: string;
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

/** The scenario's categories and their versions, as fee_rates rows and as the domain's FeeRate. */
function scenarioRates(tag: string, specs: Scenario['rates']): FeeRate[] {
  return specs.flatMap((spec, i) => {
    const category = `${tag}-x${i}`;
    const initial = spec.initial ? [{ category, ...spec.initial, effectiveFrom: '2020-01-01' }] : [];
    return [...initial, ...spec.changes.map((c) => ({ category, unionFeeBp: c.unionFeeBp, channelShareBp: c.channelShareBp, effectiveFrom: isoDay(c.edgeDay) }))];
  });
}

const lineOf = (o: ModelOrder) => ({ amountFen: o.amountFen, category: o.category, receiptConfirmedAt: o.receivedAt.toISOString() });

let runSeq = 0;

async function checkScenario(db: Knex, statementRepo: StatementRepository, queries: SettlementQueries, scenario: Scenario): Promise<void> {
  const { merchants, thresholds } = scenario;
  const tag = `p${String(++runSeq).padStart(4, '0')}`;
  const violations = createViolationRepository(db);
  const ownRates = scenarioRates(tag, scenario.rates);
  const rates = [...DEFAULT_FEE_RATES, ...ownRates];
  if (ownRates.length > 0) {
    await db('fee_rates').insert(
      ownRates.map((r) => ({ category: r.category, effective_from: r.effectiveFrom, union_fee_bp: r.unionFeeBp, channel_share_bp: r.channelShareBp })),
    );
  }
  const ids = merchants.map((_, i) => `${tag}-${i}`);
  const orders: ModelOrder[][] = merchants.map((m, mi) =>
    m.orders.map((o, oi) => {
      const receivedAt = new Date(
        'edgeDay' in o.receipt ? dayStart(o.receipt.edgeDay) + o.receipt.minuteOffset * MINUTE : bounds[o.receipt.periodIndex]!.start.getTime() + o.receipt.minuteOfPeriod * MINUTE,
      );
      const refundedAt = o.refundAfterDays === undefined ? undefined : new Date(receivedAt.getTime() + o.refundAfterDays * DAY + 3_600_000);
      const category = o.category === 'x0' || o.category === 'x1' ? `${tag}-${o.category}` : o.category;
      return { id: `${ids[mi]}-o${oi}`, amountFen: o.amountFen, category, receivedAt, refundedAt };
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

  const statements = new Map<string, ComputedStatement>();
  const carried = merchants.map(() => 0);
  let restoresChecked = 0;

  const restore = async (mi: number, flag: ModelFlag) => {
    const answer = await violations.restoreForfeitFlag(flag.caseId, new Date());
    let expected = 0;
    if (flag.consumedPeriod !== undefined) {
      const others = flags[mi]!.filter((f) => f !== flag && f.consumedPeriod === flag.consumedPeriod && !f.restored);
      if (others.length === 0) {
        const refundedForfeited = orders[mi]!.filter((o) => o.settledPeriod === flag.consumedPeriod && o.refundStated);
        expected = forfeitureRepaidFen(
          statements.get(`${mi}:${flag.consumedPeriod}`)!.forfeitedFen,
          refundedForfeited.reduce((s, o) => s + lineNetFen(lineOf(o), rates), 0),
        );
      }
    }
    flag.restored = true;
    restoresChecked += 1;
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
        await db('merchant_flags').insert({ merchant_id: ids[mi], flag: 'forfeit_unsettled', since: new Date(Date.now() - (fi + 1) * MINUTE), case_id: flag.caseId });
      }
      const refundedNow = orders[mi]!.filter((o) => o.refundedAt && o.refundedAt.getTime() < now);
      for (const o of refundedNow) await db('orders').where({ id: o.id }).update({ status: 'refunded', refunded_at: o.refundedAt });
    }

    // Closing shops first: their final statement, then the monthly run, which skips them.
    const missingRate: MissingRate[] = [];
    for (let mi = 0; mi < merchants.length; mi++) {
      if (merchants[mi]!.finalAt === p) missingRate.push(...(await statementRepo.settleMerchantFinal(ids[mi]!, period)).missingRate);
    }
    missingRate.push(...(await statementRepo.settleMerchantRange(period, `${tag}-`, `${tag}-~`, thresholds)).missingRate);

    for (let mi = 0; mi < merchants.length; mi++) {
      const refunded = (o: ModelOrder) => o.refundedAt !== undefined && o.refundedAt.getTime() < now;
      const sales = orders[mi]!.filter((o) => !o.settledPeriod && !refunded(o) && o.receivedAt.getTime() < end);
      const refunds = orders[mi]!.filter((o) => o.settledPeriod && !o.refundStated && o.refundedAt && o.refundedAt.getTime() < end);
      const forfeitureStands = (settled: string) =>
        statements.get(`${mi}:${settled}`)!.forfeitedFen > 0 && flags[mi]!.some((f) => f.consumedPeriod === settled && !f.restored);
      const active = flags[mi]!.filter((f) => f.raisedBefore <= p && !f.restored && f.consumedPeriod === undefined);
      const actual = await queries.statement(ids[mi]!, period);

      // A line in a category without a rate on its day blocks the merchant's statement.
      const unrated = sales.filter((o) => {
        try {
          lineFees(lineOf(o), rates);
          return false;
        } catch (err) {
          if (err instanceof MissingFeeRateError) return true;
          throw err;
        }
      });
      const reported = missingRate.filter((m) => m.merchantId === ids[mi]).map((m) => m.category);
      expect({ merchant: ids[mi], period, missingRate: [...new Set(reported)].sort() }).toEqual({ merchant: ids[mi], period, missingRate: [...new Set(unrated.map((o) => o.category))].sort() });
      if (unrated.length > 0 || (sales.length === 0 && refunds.length === 0 && carried[mi] === 0)) {
        expect({ merchant: ids[mi], period, statement: actual }).toEqual({ merchant: ids[mi], period, statement: undefined });
        continue;
      }

      const fees = sales.map((o) => lineFees(lineOf(o), rates));
      const kind: StatementKind = merchants[mi]!.finalAt === p ? 'final' : 'monthly';
      const expected = computeStatement(
        {
          gmvFen: sales.reduce((s, o) => s + o.amountFen, 0),
          unionFeeFen: fees.reduce((s, f) => s + f.unionFeeFen, 0),
          channelFeeFen: fees.reduce((s, f) => s + f.channelFeeFen, 0),
          refundsFen: refunds.filter((o) => !forfeitureStands(o.settledPeriod!)).reduce((s, o) => s + lineNetFen(lineOf(o), rates), 0),
          carriedInFen: carried[mi]!,
          flagged: active.length > 0,
          kind,
        },
        thresholds,
      );
      expect({ merchant: ids[mi], period, ...stored(actual) }).toEqual({
        merchant: ids[mi],
        period,
        ...figuresOf(expected),
        kind,
        lineCount: sales.length + refunds.length,
      });

      statements.set(`${mi}:${period}`, expected);
      carried[mi] = expected.carriedOutFen;
      for (const o of sales) o.settledPeriod = period;
      for (const o of refunds) o.refundStated = true;
      for (const f of active) f.consumedPeriod = period;
      // The flags a statement used share its forfeiture once: their amounts sum to it.
      const shares = await db('merchant_flags').where({ merchant_id: ids[mi], consumed_period: period }).sum({ fen: 'forfeited_fen' }).first();
      if (active.length > 0) expect({ period, flagsSum: Number(shares?.fen ?? 0) }).toEqual({ period, flagsSum: expected.forfeitedFen });
    }
  }
  expect(restoresChecked).toBe(flags.flat().filter((f) => f.upheldBefore !== undefined).length);
}

const figuresOf = (s: ComputedStatement | Statement) => Object.fromEntries(STATEMENT_FIGURES.map((figure) => [figure, s[figure]]));

function stored(s: Statement | undefined) {
  if (!s) return { statement: 'missing' };
  return { ...figuresOf(s), kind: s.kind, lineCount: s.lineCount };
}

describe('the settlement SQL agrees with computeStatement', () => {
  let t: TestDb;
  let statementRepo: StatementRepository;
  let queries: SettlementQueries;

  beforeAll(async () => {
    t = await createTestDb();
    statementRepo = createStatementRepository(t.db);
    queries = createSettlementQueries(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  test('on random orders, rate histories, refunds, carries, thresholds, forfeiture flags, upheld appeals and final statements over four months', async () => {
    const seed = Number(process.env.SETTLEMENT_PROPERTY_SEED ?? 20261201);
    const numRuns = Number(process.env.SETTLEMENT_PROPERTY_RUNS ?? 60);
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) => checkScenario(t.db, statementRepo, queries, scenario)),
      { seed, numRuns, endOnFailure: true },
    );
  }, 120_000);
});
