import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createSettlementQueries } from '../../db/repositories/settlement/queries';
import type { Statement } from '../../db/repositories/settlement/records';
import { createSettlementRunRepository } from '../../db/repositories/settlement/runs';
import { ProcessAlreadyRunning } from '../../domain/errors';
import { monthlySettlementProcess, settlementWorkflowId } from '../../workflows/settlement.defs';
import { mayActFor, merchantNotFound, type Principal } from '../auth';
import { HttpError, notFound } from '../errors';
import { startProcess } from '../process-seam';
import { periodNotEndedUntil } from '../../domain/settlement';
import { createSettlementListing } from './list';

export interface SettlementServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
}

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function statementView(s: Statement) {
  const { payoutId: _payoutId, createdAt: _createdAt, ...figures } = s;
  return figures;
}

/** The run's failures for want of a rate, grouped by category. */
function missingRatesOf(failures: unknown[]): Array<{ category: string; merchantIds: string[] }> {
  const byCategory = new Map<string, Set<string>>();
  for (const f of failures as Array<{ merchantId?: unknown; category?: unknown }>) {
    if (typeof f.category !== 'string' || typeof f.merchantId !== 'string') continue;
    byCategory.set(f.category, (byCategory.get(f.category) ?? new Set()).add(f.merchantId));
  }
  return [...byCategory].sort(([a], [b]) => (a < b ? -1 : 1)).map(([category, ids]) => ({ category, merchantIds: [...ids].sort() }));
}

/** Runs and reads settlements; the work itself is the monthlySettlement workflow's. */
export function createSettlementService({ db, temporal, taskQueue }: SettlementServiceDeps) {
  const runs = createSettlementRunRepository(db);
  const queries = createSettlementQueries(db);

  const listing = createSettlementListing(db);

  return {
    /** One page of the runs, the latest period first. */
    listRuns: listing.runs,
    /** One page of the statements the caller may see, the latest period first. */
    listStatements: listing.statements,

    /**
     * Starts (or re-runs) an ended period; while one runs for it, says so instead of starting
     * another. A period not yet ended is a 409 naming the earliest day it may run.
     */
    async run(period: string) {
      const earliestRunDate = periodNotEndedUntil(period, new Date());
      if (earliestRunDate) {
        throw new HttpError(409, 'period_not_ended', `period ${period} has not ended; it may be settled from ${earliestRunDate} (Asia/Shanghai)`, {
          earliestRunDate,
          timeZone: 'Asia/Shanghai',
        });
      }
      const workflowId = settlementWorkflowId(period);
      try {
        // No record first: the run writes its own row (settlement_runs) from its first step.
        await startProcess(temporal, {
          process: monthlySettlementProcess,
          workflowId,
          taskQueue,
          input: { period },
          conflictPolicy: 'FAIL',
          reusePolicy: 'ALLOW_DUPLICATE',
          searchAttributes: { status: 'running' },
          about: { period },
        });
        return { period, workflowId, status: 'started' as const };
      } catch (err) {
        if (err instanceof ProcessAlreadyRunning) return { period, workflowId, status: 'running' as const };
        throw err;
      }
    },

    async progress(period: string) {
      const run = await runs.run(period);
      if (!run) throw notFound(`period ${period} has not been settled`);
      return {
        period,
        status: run.status,
        merchantsTotal: run.merchantsTotal,
        merchantsDone: run.merchantsDone,
        // Summed from the stored statements: true whatever the run's history (re-runs, retries).
        totals: await queries.periodTotals(period),
        failures: run.failures,
        missingRates: missingRatesOf(run.failures),
        startedAt: iso(run.startedAt),
        completedAt: iso(run.completedAt),
      };
    },

    async statementsOf(merchantId: string, principal: Principal) {
      if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
      return { merchantId, statements: (await queries.statementsOf(merchantId)).map(statementView) };
    },
  };
}

export type SettlementService = ReturnType<typeof createSettlementService>;
