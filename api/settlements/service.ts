import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createSettlementRepository, type Statement } from '../../db/repositories/settlement';
import { PROCESS_TYPE, STATUS } from '../../workflows/search-attributes';
import { SETTLEMENT_PROCESS, SETTLEMENT_WORKFLOW_TYPE, settlementWorkflowId } from '../../workflows/settlement.defs';
import { mayActFor, merchantNotFound, type Principal } from '../auth';
import { HttpError, notFound } from '../errors';
import { periodNotEndedUntil } from '../../domain/settlement';

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

/** Runs and reads settlements; the work itself is the monthlySettlement workflow's. */
export function createSettlementService({ db, temporal, taskQueue }: SettlementServiceDeps) {
  const settlement = createSettlementRepository(db);

  return {
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
        await temporal.workflow.start(SETTLEMENT_WORKFLOW_TYPE, {
          workflowId,
          taskQueue,
          args: [{ period }],
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [
            { key: PROCESS_TYPE, value: SETTLEMENT_PROCESS },
            { key: STATUS, value: 'running' },
          ],
        });
        return { period, workflowId, status: 'started' as const };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { period, workflowId, status: 'running' as const };
        throw err;
      }
    },

    async progress(period: string) {
      const run = await settlement.run(period);
      if (!run) throw notFound(`period ${period} has not been settled`);
      return {
        period,
        status: run.status,
        merchantsTotal: run.merchantsTotal,
        merchantsDone: run.merchantsDone,
        // Summed from the stored statements: true whatever the run's history (re-runs, retries).
        totals: await settlement.periodTotals(period),
        failures: run.failures,
        startedAt: iso(run.startedAt),
        completedAt: iso(run.completedAt),
      };
    },

    async statementsOf(merchantId: string, principal: Principal) {
      if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
      return { merchantId, statements: (await settlement.statementsOf(merchantId)).map(statementView) };
    },
  };
}

export type SettlementService = ReturnType<typeof createSettlementService>;
