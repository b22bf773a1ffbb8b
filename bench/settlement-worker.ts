/**
 * One worker process of bench:settlement: the real activities (activityDepsFrom,
 * createActivities) over the database and platform its parent names, polling the parent's
 * task queue with the workflow bundle the parent built once. It tells its parent over IPC
 * once it polls, and stops on SIGTERM after its activities in flight have finished.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createDb } from '../db/connection';
// Also installs a Temporal runtime that logs warnings only.
import '../test/support/temporal';
import { activityDepsFrom, createActivities } from '../worker/dependencies';

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({ DATABASE_URL: env.DATABASE_URL, PLATFORM_BASE_URL: env.PLATFORM_BASE_URL, PLATFORM_API_TOKEN: env.PLATFORM_API_TOKEN, LOG_LEVEL: 'warn' });
  const db = createDb({ databaseUrl: config.DATABASE_URL });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  try {
    const worker = await Worker.create({
      connection,
      taskQueue: env.TEMPORAL_TASK_QUEUE!,
      identity: env.BENCH_WORKER_NAME!,
      workflowBundle: { codePath: env.BENCH_WORKFLOW_BUNDLE! },
      activities: createActivities(activityDepsFrom(config, db)),
    });
    process.once('SIGTERM', () => worker.shutdown());
    const running = worker.run();
    process.send?.('polling');
    await running;
  } finally {
    await connection.close();
    await db.destroy();
    // The IPC channel would keep the process alive.
    process.disconnect?.();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
