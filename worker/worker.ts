import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { Tracing } from '../config/tracing';
import type { ActivityDeps } from './dependencies';
import { createActivities } from './dependencies';

/**
 * The workflow side of tracing, bundled with the workflows: spans for each workflow task,
 * signal, update and activity scheduling, continued from the trace in the start's headers.
 * It adds no command to history (test/replay/replay.test.ts replays every history with it).
 */
export const TRACING_WORKFLOW_MODULES = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

/**
 * Worker options that trace activities and hand workflow spans to `tracing`. The workflow
 * interceptors themselves are bundled (TRACING_WORKFLOW_MODULES): by the worker when it
 * bundles, by whoever builds a prebuilt bundle otherwise.
 */
export function tracingWorkerOptions(tracing: Pick<Tracing, 'spanProcessor' | 'resource'>): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    // Workflow code cannot export spans itself (no I/O in the sandbox): it sends them here.
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

export interface MerchantOpsWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  tracing: Pick<Tracing, 'spanProcessor' | 'resource'>;
  /** A prebuilt bundle (it must include TRACING_WORKFLOW_MODULES); otherwise the worker bundles ./workflows. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How long running activities get to finish on shutdown before they are cancelled (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs?: number;
  /** The bundle `npm run build` wrote (WORKFLOW_BUNDLE_PATH): production starts without webpack. */
  workflowBundlePath?: string;
}

/** Where the workflows come from, with the tracing interceptors bundled in when the worker bundles itself. */
function workflowsOf(
  options: MerchantOpsWorkerOptions,
  interceptors: WorkerOptions['interceptors'],
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> {
  if (options.workflowBundle) return { workflowBundle: options.workflowBundle, interceptors };
  if (options.workflowBundlePath) return { workflowBundle: { codePath: options.workflowBundlePath }, interceptors };
  return { workflowsPath: require.resolve('../workflows'), interceptors: { ...interceptors, workflowModules: TRACING_WORKFLOW_MODULES } };
}

// After the grace time, this long for cancelled activities to give up; then run() throws
// rather than wait for ever on an activity that ignores cancellation.
const FORCE_AFTER_GRACE_MS = 2_000;

export async function createMerchantOpsWorker(options: MerchantOpsWorkerOptions): Promise<Worker> {
  const tracing = tracingWorkerOptions(options.tracing);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    sinks: tracing.sinks,
    ...workflowsOf(options, tracing.interceptors),
    // The SDK's default is 0: a stop would cancel every activity in flight at once.
    ...(options.shutdownGraceMs === undefined
      ? {}
      : { shutdownGraceTime: options.shutdownGraceMs, shutdownForceTime: options.shutdownGraceMs + FORCE_AFTER_GRACE_MS }),
  });
}
