/**
 * A worker in a process of its own, so a test can kill it with SIGKILL mid-activity: no
 * shutdown, no finally blocks, its database connections and platform calls cut off.
 * Run with `node --import tsx`; it tells its parent over IPC once it polls.
 *
 * Settlement is cut into ranges of 5 merchants, batches of 10 and payout pages of 10, so
 * a small data set has many places to be killed in.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { createDb } from '../../db/connection';
import { createSettlementActivities } from '../../activities/settlement';
import { activityDepsFrom, createActivities } from '../../worker/dependencies';
import { workflowBundle } from './temporal';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const db = createDb({ databaseUrl: config.DATABASE_URL });
  const deps = activityDepsFrom(config, db);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: workflowBundle(),
    // No sticky queue: a workflow task left on a killed worker's sticky queue moves on after
    // a schedule-to-start timeout that the time-skipping server only counts in skipped time.
    maxCachedWorkflows: 0,
    activities: {
      ...createActivities(deps),
      ...createSettlementActivities({
        db,
        platform: deps.platform,
        thresholds: deps.settlementThresholds,
        sizes: { merchantsPerRange: 5, merchantsPerBatch: 10, payoutsPerPage: 10 },
      }),
    },
  });
  const running = worker.run();
  process.send?.('polling');
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(`settlement worker process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
