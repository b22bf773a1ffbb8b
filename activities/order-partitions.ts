import { Context, log } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { createOrderPartitionRepository } from '../db/repositories/order-partitions';
import { monthsToEnsure } from '../domain/order-partitions';
import type { EnsurePartitionsStep, OrderPartitionsResult } from '../workflows/order-partitions.defs';

/** Who creates partitions, as the audit log names it. */
export const ORDER_PARTITIONS_ACTOR = 'system:order-partitions';

export function createOrderPartitionActivities({ db }: { db: Db }) {
  const partitions = createOrderPartitionRepository(db);

  return {
    /**
     * Creates the missing partitions from the Shanghai month of `asOf` through `monthsAhead`
     * months after it; safe to run twice (a second run creates nothing and audits nothing).
     */
    async ensureOrderPartitions(step: EnsurePartitionsStep): Promise<OrderPartitionsResult> {
      const { from, through } = monthsToEnsure(new Date(step.asOf), step.monthsAhead);
      // The run that asked, so the audit row leads to its history in the Web UI.
      const { workflowExecution: run, activityId } = Context.current().info;
      const actor = { sub: ORDER_PARTITIONS_ACTOR, role: 'system', requestId: run ? `${run.workflowId}/${run.runId}` : activityId };
      const created = await partitions.ensurePartitions(from, through, actor);
      if (created.length > 0) log.info('order partitions created', { created });
      return { asOf: step.asOf, from, through, created };
    },
  };
}

export type OrderPartitionActivities = ReturnType<typeof createOrderPartitionActivities>;
