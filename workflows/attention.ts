import { ActivityFailure, ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors';
import { resolveAttentionUpdate, type Attention, type AttentionOutcome, type AttentionResolution } from './attention.defs';
import type { BusinessStatus } from './business-status';

/** Added with issue 9: histories from before it never waited for ops (their steps never failed this way). */
export const ATTENTION_PATCH = 'steps-failing-for-good-need-attention';

/** Thrown out of a step that ops abandoned; the process decides what abandoning means. */
export class StepAbandoned extends Error {
  constructor(
    readonly step: string,
    readonly resolution: AttentionResolution,
  ) {
    super(`${step} abandoned by ${resolution.actor}`);
    this.name = 'StepAbandoned';
  }
}

/** The step failures a retry cannot cure and that no caller expects as a business refusal. */
function permanentFailureOf(err: unknown): ApplicationFailure | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  return err.cause.type === ErrorType.DataRejected || err.cause.type === ErrorType.PlatformRefusalNeedsOps ? err.cause : undefined;
}

export interface AttentionHooks {
  /** Show the process as needing attention (status, search attribute, its read model). */
  enter(attention: Attention): Promise<void>;
  /** Show it as it was before, once ops have answered. */
  leave(attention: Attention, resolution: AttentionResolution): Promise<void>;
}

/**
 * The hooks of a process whose read model is its state: the attention shows on the state and
 * in `BusinessStatus`, and the process's own status shows again once ops have answered.
 */
export function attentionOnState(state: { attention?: Attention | null }, status: Pick<BusinessStatus<string>, 'needsAttention' | 'resume'>): AttentionHooks {
  return {
    async enter(attention) {
      state.attention = attention;
      status.needsAttention();
    },
    async leave() {
      state.attention = null;
      status.resume();
    },
  };
}

export interface AttentionGate {
  current(): Attention | null;
  /** Runs a step; if it fails for good, waits for ops to retry it or abandon it. */
  run<T>(step: string, work: () => Promise<T>, options?: { abandonable?: boolean; statusBefore?: string }): Promise<T>;
}

/**
 * One gate per process: sets the `resolveAttention` handler and runs steps through it. One
 * step waits for ops at a time; another failing meanwhile waits its turn.
 */
export function attentionGate(currentStatus: () => string, hooks: AttentionHooks): AttentionGate {
  let attention: Attention | null = null;
  let resolution: AttentionResolution | undefined;

  setHandler(
    resolveAttentionUpdate,
    async (r): Promise<AttentionOutcome> => {
      const step = attention!.step;
      resolution = r;
      await condition(() => resolution === undefined);
      return { action: r.action, step };
    },
    {
      validator: (r) => {
        if (!attention) throw new Error('nothing is waiting for ops');
        if (resolution) throw new Error(`ops already answered ${attention.step}`);
        if (r.action === 'abandon' && !attention.abandonable) throw new Error(`${attention.step} cannot be abandoned; fix the data and retry`);
      },
    },
  );

  return {
    current: () => attention,
    async run(step, work, options = {}) {
      for (;;) {
        try {
          return await work();
        } catch (err) {
          const failure = permanentFailureOf(err);
          if (!failure || !patched(ATTENTION_PATCH)) throw err;
          await condition(() => attention === null);
          attention = {
            step,
            error: failure.message,
            errorType: failure.type ?? null,
            since: new Date().toISOString(),
            statusBefore: options.statusBefore ?? currentStatus(),
            abandonable: options.abandonable ?? false,
          };
          await hooks.enter(attention);
          await condition(() => resolution !== undefined);
          const answered = resolution!;
          await hooks.leave(attention, answered);
          attention = null;
          resolution = undefined;
          if (answered.action === 'abandon') throw new StepAbandoned(step, answered);
        }
      }
    },
  };
}

type Step = (...args: never[]) => Promise<unknown>;

/** The same activities, each call run through the gate as a step named after the activity (retry only). */
export function gated<T extends object>(activities: T, gate: AttentionGate): T {
  return new Proxy(activities, {
    get(target, name) {
      const run = Reflect.get(target, name) as Step;
      return (...args: never[]) => gate.run(String(name), () => run(...args));
    },
  });
}
