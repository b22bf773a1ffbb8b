/**
 * Workers in processes of their own, so a test can kill one with SIGKILL mid-activity: no
 * shutdown, no finally blocks, its database connections and platform calls cut off.
 *
 * The parent side (`killableWorkers`) forks a worker script with `node --import tsx` and
 * waits until it polls; the child side (`runWorkerProcess`) builds the worker from the
 * environment it was given and tells its parent over IPC once it polls.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig, type AppConfig } from '../../config/config';
import { createDb, type Db } from '../../db/connection';
import { activityDepsFrom, type ActivityDeps } from '../../worker/dependencies';
import { workflowBundle } from './temporal';

export interface WorkerProcessTarget {
  databaseUrl: string;
  temporalAddress: string;
  namespace?: string;
  taskQueue: string;
  platformUrl: string;
  platformToken: string;
}

/** Starts and kills worker processes running `script`; `killAll` for afterAll. */
export function killableWorkers(script: string, target: () => WorkerProcessTarget) {
  const workers: ChildProcess[] = [];
  return {
    async start(): Promise<ChildProcess> {
      const t = target();
      const child = fork(script, [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          DATABASE_URL: t.databaseUrl,
          TEMPORAL_ADDRESS: t.temporalAddress,
          TEMPORAL_NAMESPACE: t.namespace ?? 'default',
          TEMPORAL_TASK_QUEUE: t.taskQueue,
          PLATFORM_BASE_URL: t.platformUrl,
          PLATFORM_API_TOKEN: t.platformToken,
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`worker process exited with ${code} before polling`)));
      });
      return child;
    },
    async kill(child: ChildProcess): Promise<void> {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    killAll(): void {
      for (const w of workers) w.kill('SIGKILL');
    },
  };
}

/** The child side: a worker over the environment's config with the activities `build` gives. */
export function runWorkerProcess(name: string, build: (deps: ActivityDeps, db: Db, config: AppConfig) => object): void {
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
      activities: build(deps, db, config),
    });
    const running = worker.run();
    process.send?.('polling');
    await running;
  }
  main().catch((err: unknown) => {
    process.stderr.write(`${name} worker process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
