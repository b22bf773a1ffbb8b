import type { Knex } from 'knex';
import { SettlementRecordNotFoundError, assertPeriod, storedTotals } from './records';

/** A period's settlement run: opened once, its progress, and its end with the stored totals. */

export type RunStatus = 'running' | 'completed' | 'failed';

export interface SettlementRun {
  period: string;
  status: RunStatus;
  startedAt: Date;
  completedAt: Date | null;
  merchantsTotal: number | null;
  merchantsDone: number;
  failures: unknown[];
  totals: Record<string, unknown>;
  workflowId: string | null;
}

/** A `settlement_runs` row as the database returns it. */
export interface RunRow {
  period: string;
  status: RunStatus;
  started_at: Date;
  completed_at: Date | null;
  merchants_total: number | null;
  merchants_done: number;
  failures: unknown[];
  totals: Record<string, unknown>;
  workflow_id: string | null;
}

const toRun = (r: RunRow): SettlementRun => ({
  period: r.period,
  status: r.status,
  startedAt: r.started_at,
  completedAt: r.completed_at,
  merchantsTotal: r.merchants_total,
  merchantsDone: r.merchants_done,
  failures: r.failures,
  totals: r.totals,
  workflowId: r.workflow_id,
});

export function createSettlementRunRepository(db: Knex) {
  async function findRun(period: string, q: Knex = db): Promise<SettlementRun | undefined> {
    const row = await q<RunRow>('settlement_runs').where({ period }).first();
    return row ? toRun(row) : undefined;
  }

  return {
    /**
     * Opens the run of a period once (`started: false` when it exists); a failed run is
     * reopened, keeping its progress so a new attempt resumes instead of restarting.
     */
    async startRun(period: string, opts: { workflowId?: string; merchantsTotal?: number } = {}): Promise<{ started: boolean; run: SettlementRun }> {
      assertPeriod(period);
      return db.transaction(async (trx) => {
        const inserted = await trx('settlement_runs')
          .insert({ period, status: 'running', workflow_id: opts.workflowId ?? null, merchants_total: opts.merchantsTotal ?? null })
          .onConflict('period')
          .ignore()
          .returning('period');
        const reopened =
          inserted.length === 0
            ? await trx('settlement_runs')
                .where({ period, status: 'failed' })
                .update({ status: 'running', completed_at: null, ...(opts.workflowId ? { workflow_id: opts.workflowId } : {}) })
            : 0;
        const run = await findRun(period, trx);
        if (!run) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
        return { started: inserted.length > 0 || reopened > 0, run };
      });
    },

    /**
     * Progress: merchants done as the caller counts them; the totals are summed from the
     * period's statements (a run's own count would restart at 0 on a re-run or a retry).
     */
    async recordProgress(
      period: string,
      progress: { merchantsDone: number; failures?: unknown[]; merchantsTotal?: number },
    ): Promise<SettlementRun> {
      const update: Record<string, unknown> = { merchants_done: progress.merchantsDone, totals: JSON.stringify(await storedTotals(db, period)) };
      if (progress.failures !== undefined) update.failures = JSON.stringify(progress.failures);
      if (progress.merchantsTotal !== undefined) update.merchants_total = progress.merchantsTotal;
      const changed = await db('settlement_runs').where({ period }).update(update);
      if (changed === 0) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
      return (await findRun(period))!;
    },

    /**
     * A range's statements, inserted by the caller's transaction (`db` is that transaction):
     * the run counts the merchants they settled and takes the period's totals as they now
     * stand. The count is added, not set, and commits with the statements it counts, so lanes
     * settling at once each add their own and a range retried after a crash (which inserts
     * nothing) adds nothing. The row is locked before the totals are summed: under READ
     * COMMITTED the sum then sees every range committed before, and the totals never go back.
     */
    async recordRangeSettled(period: string, merchantsSettled: number): Promise<SettlementRun> {
      const locked = await db('settlement_runs').where({ period }).forUpdate().first('period');
      if (!locked) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
      await db('settlement_runs')
        .where({ period })
        .update({ merchants_done: db.raw('merchants_done + ?', [merchantsSettled]), totals: JSON.stringify(await storedTotals(db, period)) });
      return (await findRun(period))!;
    },

    /** Ends the run once (a repeated call keeps the first completion time), with the stored totals. */
    async completeRun(
      period: string,
      outcome: { status?: Exclude<RunStatus, 'running'>; failures?: unknown[] } = {},
    ): Promise<SettlementRun> {
      const update: Record<string, unknown> = {
        status: outcome.status ?? 'completed',
        completed_at: db.raw('COALESCE(completed_at, now())'),
        totals: JSON.stringify(await storedTotals(db, period)),
      };
      if (outcome.failures !== undefined) update.failures = JSON.stringify(outcome.failures);
      const changed = await db('settlement_runs').where({ period }).update(update);
      if (changed === 0) throw new SettlementRecordNotFoundError(`settlement run ${period}`);
      return (await findRun(period))!;
    },

    run: (period: string) => findRun(period),

    /** Ended runs that left merchants without a statement for want of a rate in the category. */
    async periodsBlockedBy(category: string): Promise<string[]> {
      const rows = await db('settlement_runs')
        .where({ status: 'completed' })
        .whereRaw('failures @> ?::jsonb', [JSON.stringify([{ category }])])
        .orderBy('period')
        .select('period');
      return rows.map((r: { period: string }) => r.period);
    },

  };
}

export type SettlementRunRepository = ReturnType<typeof createSettlementRunRepository>;
