import { ApplicationFailure, Context } from '@temporalio/activity';
import { keepHeartbeating } from './heartbeat';
import type { Db } from '../db/connection';
import { createPayoutRepository } from '../db/repositories/settlement/payouts';
import { createSettlementQueries } from '../db/repositories/settlement/queries';
import type { SettlementTotals } from '../db/repositories/settlement/records';
import { createSettlementRunRepository } from '../db/repositories/settlement/runs';
import { createStatementRepository, type MissingRate } from '../db/repositories/settlement/statements';
import { periodNotEndedUntil, periodOf, settlementPeriodProblem, type SettlementThresholds } from '../domain/settlement';
import { ErrorType } from '../domain/errors';
import type { FinalSettlement } from './closure';
import type { PlatformClient } from '../platform/types';

export interface SettlementActivityDeps {
  db: Db;
  platform: PlatformClient;
  thresholds: SettlementThresholds;
  /** Chunk sizes; the defaults are the measured ones (tests make them small to cut a run into many chunks). */
  sizes?: Partial<SettlementChunkSizes>;
}

export interface SettlementChunkSizes {
  merchantsPerRange: number;
  merchantsPerBatch: number;
  payoutsPerPage: number;
}

const DEFAULT_SIZES: SettlementChunkSizes = {
  // A range is one INSERT … SELECT over its merchants' orders. Orders are stored in arrival
  // order, so any range touches most of the table's pages: fewer, larger ranges cost less
  // (1M orders / 10k merchants: ranges of 500 took 14 s, of 2,500 under 10 s), and a retry
  // still redoes at most one range of a couple of seconds.
  merchantsPerRange: 2_500,
  // A batch (one activity) settles this many merchants before handing back to the workflow.
  merchantsPerBatch: 5_000,
  // Payouts per batch call: the payment API takes up to 1,000 items.
  payoutsPerPage: 500,
};

interface BatchCursor {
  after: string;
  merchantsDone: number;
  statements: number;
  missingRate: MissingRate[];
  totals: Partial<SettlementTotals>;
}

/**
 * The API refuses a period outside the settleable range, but a run can also be started by
 * hand or by an old schedule. PostgreSQL has no year 0 ('0000-01-01' is out of range), so
 * such a period would fail every retry for ever: refuse it once, non-retryably.
 */
function requireSettleablePeriod(period: string): void {
  const now = new Date();
  const problem = settlementPeriodProblem(period, now);
  if (problem) {
    throw ApplicationFailure.nonRetryable(`settlement period ${JSON.stringify(period)} ${problem}`, ErrorType.InvalidSettlementPeriod);
  }
  // A monthly run settles ended months only (periodNotEndedUntil); final statements do not come here.
  const earliest = periodNotEndedUntil(period, now);
  if (earliest) {
    throw ApplicationFailure.nonRetryable(
      `settlement period ${period} has not ended; the earliest a run may settle it is ${earliest} (Asia/Shanghai)`,
      ErrorType.InvalidSettlementPeriod,
      { earliestRunDate: earliest },
    );
  }
}

/** Lanes a run may ask for: each holds a database connection and a worker's activity slot. */
export const MAX_SETTLEMENT_LANES = 16;

/** A lane's share of the merchant ids: (after, upTo], upTo null for the last lane. */
export interface SettlementLaneBounds {
  after: string;
  upTo: string | null;
}

export function createSettlementActivities({ db, platform, thresholds, sizes }: SettlementActivityDeps) {
  const runs = createSettlementRunRepository(db);
  const payoutRecords = createPayoutRepository(db);
  const queries = createSettlementQueries(db);
  const { merchantsPerRange, merchantsPerBatch, payoutsPerPage } = { ...DEFAULT_SIZES, ...sizes };

  return {
    async startRun(input: { period: string }) {
      requireSettleablePeriod(input.period);
      const { started, run } = await runs.startRun(input.period, { workflowId: Context.current().info.workflowExecution?.workflowId });
      return { alreadySettled: !started && run.status === 'completed', merchantsDone: run.merchantsDone, totals: run.totals };
    },

    /**
     * The run's lanes: up to `lanes` (at most MAX_SETTLEMENT_LANES) disjoint shares of the
     * merchant ids with about as many merchants to settle each, none shorter than a range.
     */
    async settlementLanes(input: { period: string; lanes: number }): Promise<SettlementLaneBounds[]> {
      requireSettleablePeriod(input.period);
      const wanted = Math.min(MAX_SETTLEMENT_LANES, Math.max(1, Math.floor(input.lanes)));
      const { bounds } = await queries.laneBounds(input.period, wanted, merchantsPerRange);
      return [...bounds, null].map((upTo, i) => ({ after: i === 0 ? '' : bounds[i - 1]!, upTo }));
    },

    /**
     * Settles merchant ranges after `after` (up to `upTo`, inclusive, in a lane) until a batch
     * is done. The heartbeat carries the last merchant settled, so a retried attempt (a
     * crashed worker) resumes there; and a range settled twice inserts nothing the second
     * time. `merchantsDone` and `totals` come back as the run's row holds them (all lanes).
     */
    async settleBatch(input: { period: string; after: string; upTo?: string | null; merchantsDone?: number; totals?: Partial<SettlementTotals> }) {
      requireSettleablePeriod(input.period);
      const upTo = input.upTo ?? null;
      const heartbeat = keepHeartbeating<BatchCursor>();
      const cursor: BatchCursor = heartbeat.resumed ?? {
        after: input.after,
        merchantsDone: input.merchantsDone ?? 0,
        statements: 0,
        missingRate: [],
        totals: input.totals ?? {},
      };
      let tried = 0;
      try {
        while (tried < merchantsPerBatch) {
          const merchants = await queries.merchantsToSettle(input.period, cursor.after, merchantsPerRange, upTo);
          if (merchants.length === 0) return { ...cursor, done: true };
          const last = merchants[merchants.length - 1]!;
          // The statements and the run's count of them commit together (recordRangeSettled).
          const { result, run } = await db.transaction(async (trx) => {
            const settled = await createStatementRepository(trx).settleMerchantRange(input.period, cursor.after, last, thresholds);
            return { result: settled, run: await createSettlementRunRepository(trx).recordRangeSettled(input.period, settled.statements) };
          });
          tried += merchants.length;
          cursor.after = last;
          cursor.merchantsDone = run.merchantsDone;
          cursor.statements += result.statements;
          cursor.missingRate.push(...result.missingRate);
          // The period's totals as stored: a re-run or a retry counting from 0 must not overwrite them.
          cursor.totals = run.totals as Partial<SettlementTotals>;
          heartbeat.progress(cursor);
        }
        return { ...cursor, done: false };
      } finally {
        heartbeat.stop();
      }
    },

    /**
     * Pays every payable statement of the period once, a page at a time: the payout rows are
     * recorded set-based, the platform pays the page in one batch call in which each item
     * carries its key `settle:<merchant>:<period>`, and the page is marked paid in one
     * UPDATE. A retry redoes at most the page it was in, and the keys make that harmless.
     */
    async payOutStatements(input: { period: string }) {
      requireSettleablePeriod(input.period);
      // The cursor and the count travel together, so a retry counts the pages before its cursor once.
      const heartbeat = keepHeartbeating<{ after: string; payouts: number }>();
      let after = heartbeat.resumed?.after ?? '';
      let payouts = heartbeat.resumed?.payouts ?? 0;
      try {
        for (;;) {
          const page = await payoutRecords.requestPayoutPage(input.period, after, payoutsPerPage);
          if (page.lastMerchantId === null) return { payouts };
          if (page.payouts.length > 0) {
            const answer = await platform.payoutBatch(
              page.payouts.map((p) => ({ idempotencyKey: p.idempotencyKey, merchantId: p.merchantId, period: p.period, amountFen: p.amountFen })),
            );
            payouts += await payoutRecords.markPayoutsPaid(
              answer.payouts.map((a) => ({ idempotencyKey: a.idempotencyKey, platformPayoutId: a.payoutId })),
              new Date(),
            );
          }
          after = page.lastMerchantId;
          heartbeat.progress({ after, payouts });
        }
      } finally {
        heartbeat.stop();
      }
    },

    /** Merchants left without a statement (a category with no rate) are the run's failures. */
    async completeRun(input: { period: string; missingRate: MissingRate[] }) {
      await runs.completeRun(input.period, { failures: input.missingRate.map((m) => ({ ...m, reason: 'no fee rate for the category' })) });
    },
  };
}

export type SettlementActivities = ReturnType<typeof createSettlementActivities>;

/**
 * The shop-closure flow's final settlement, through the monthly run's statement code: the
 * merchant's final statement for the month the closure settles in, and its payout through
 * the same batch payment call under the same key `settle:<merchant>:<period>`, so the
 * month's run (which finds the statement there) can never pay it a second time.
 */
export function createFinalSettlement({ db, platform }: Pick<SettlementActivityDeps, 'db' | 'platform'>): FinalSettlement {
  const statements = createStatementRepository(db);
  const payoutRecords = createPayoutRepository(db);
  return async ({ merchantId, asOf }) => {
    const period = periodOf(new Date(asOf));
    const { statement, missingRate } = await statements.settleMerchantFinal(merchantId, period);
    // Nothing sold, refunded or carried: no statement, nothing owed.
    if (!statement && missingRate.length === 0) return { owedFen: 0, period, payoutFen: 0 };
    if (!statement) {
      const categories = missingRate.map((m) => m.category).join(', ');
      throw ApplicationFailure.retryable(`merchant ${merchantId} sold in categories without a fee rate (${categories})`, ErrorType.MissingFeeRate, { missingRate });
    }
    if (statement.payoutFen > 0 && statement.status !== 'paid') {
      const { payout } = await payoutRecords.recordPayoutRequested(merchantId, period);
      const answer = await platform.payoutBatch([{ idempotencyKey: payout.idempotencyKey, merchantId, period, amountFen: payout.amountFen }]);
      await payoutRecords.markPayoutsPaid(answer.payouts.map((a) => ({ idempotencyKey: a.idempotencyKey, platformPayoutId: a.payoutId })), new Date());
    }
    return { owedFen: statement.owedFen, period, payoutFen: statement.payoutFen };
  };
}
