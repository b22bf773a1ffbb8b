import { randomUUID } from 'node:crypto';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { BUSINESS_STATUS } from '../../workflows/search-attributes';
import { startTimeSkippingEnv, workflowBundle } from '../support/temporal';

/**
 * The fast tier: one time-skipping server per file and a worker whose activities are plain
 * stubs (canned answers, every call recorded). No database, no sandbox platform: these
 * suites test a workflow's branching only; money and end-to-end paths stay in test/workflows.
 */

export interface Call {
  name: string;
  input: unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Canned = (input: any) => unknown;

export interface Stubs {
  /** Every activity call in the order the worker ran them (retries included). */
  calls: Call[];
  /** The inputs of the calls to one activity. */
  inputsOf(name: string): unknown[];
  /** Replaces one canned answer, for the tests that follow. */
  answer(name: string, canned: Canned): void;
}

/** Stub activities from canned answers; an answer that throws makes the call fail. */
export function stubActivities(canned: Record<string, Canned>): { activities: Record<string, (input: unknown) => Promise<unknown>>; stubs: Stubs } {
  const answers = { ...canned };
  const calls: Call[] = [];
  const activities = Object.fromEntries(
    Object.keys(canned).map((name) => [
      name,
      async (input: unknown) => {
        calls.push({ name, input });
        return answers[name](input);
      },
    ]),
  );
  const stubs: Stubs = {
    calls,
    inputsOf: (name) => calls.filter((c) => c.name === name).map((c) => c.input),
    answer: (name, next) => {
      answers[name] = next;
    },
  };
  return { activities, stubs };
}

export interface FastEnv {
  env: TestWorkflowEnvironment;
  /** A client that does not skip time while it waits for a result. */
  client: Client;
  taskQueue: string;
  stubs: Stubs;
  /** The server's clock now, in ms. */
  now(): Promise<number>;
  /** Waits until a query answers as wanted (the worker runs on its own). */
  until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T>;
  teardown(): Promise<void>;
}

/** One time-skipping server and a worker over the given stubs, for one test file. */
export async function startFastEnv(canned: Record<string, Canned>): Promise<FastEnv> {
  const env = await startTimeSkippingEnv();
  const taskQueue = `fast-${randomUUID()}`;
  const { activities, stubs } = stubActivities(canned);
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle(), activities });
  const running = worker.run();
  return {
    env,
    client: new Client({ connection: env.connection, namespace: env.namespace ?? 'default' }),
    taskQueue,
    stubs,
    now: async () => Number(await env.currentTimeMs()),
    async until(read, done) {
      for (let i = 0; i < 200; i++) {
        const value = await read();
        if (done(value)) return value;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the workflow never reached the state the test waits for');
    },
    async teardown() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** The result of a workflow that is finishing, read through `env.client` so pending timers skip. */
export function skipToResult<T>(fast: FastEnv, handle: WorkflowHandle): Promise<T> {
  return fast.env.client.workflow.getHandle(handle.workflowId).result() as Promise<T>;
}

/** What the Web UI shows for a process: Temporal's execution status and our BusinessStatus. */
export async function statusesOf(fast: FastEnv, workflowId: string): Promise<{ execution: string; business: string | undefined }> {
  const described = await fast.client.workflow.getHandle(workflowId).describe();
  return { execution: described.status.name, business: described.typedSearchAttributes.get(BUSINESS_STATUS) };
}

export const DAY = 24 * 60 * 60 * 1000;
export const iso = (ms: number): string => new Date(ms).toISOString();
