/**
 * Replays every committed history in test/replay/histories/ against the workflow code of
 * this checkout. Temporal re-runs workflow code from its history whenever a worker picks
 * up an open workflow (after a restart, a deploy, a cache eviction); if the new code
 * issues different commands, every open review of that type gets stuck with a
 * non-determinism error. This test is where that shows up instead of in production.
 *
 * Recording (runs the scenarios of scripts/record-histories.ts on the time-skipping
 * server through the full stack, and overwrites test/replay/histories/*.json):
 *
 *   npm run record-histories        (= npx tsx scripts/record-histories.ts)
 *
 * Record when a workflow or a scenario is added, or after a change that replays cleanly
 * (then the new files are extra coverage; keep the old ones that still matter).
 *
 * Do NOT re-record to make this test pass. A failure here means runs already started in
 * production would break the same way: they were recorded with the old code, and new
 * histories would only hide that. Keep the old histories and make the change
 * replay-safe instead: guard it with `patched('<change-id>')` (later
 * `deprecatePatch('<change-id>')` once no run from before the change is open), as
 * changed-workflows/patched.ts shows, or ship it as a new workflow type.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowBundle } from '../support/temporal';
import { PROCESSES } from '../../worker/registry';
import { TRACING_WORKFLOW_MODULES, tracingWorkerOptions } from '../../worker/worker';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';

const HISTORIES_DIR = path.join(__dirname, 'histories');
const historyFiles = fs
  .readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** A history file as `temporal workflow show --output json` or the record script writes it. */
function loadHistory(file: string): History {
  return historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
}

const workflowIdOf = (file: string) => path.basename(file, '.json');

const quiet = () => undefined;
const bundlerLogger = { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: quiet, error: (m: string) => process.stderr.write(`${m}\n`) };

async function bundleOf(entry: string): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: require.resolve(entry), logger: bundlerLogger });
}

/** The registered process whose histories a file records, by the process's replay prefix. */
const processOf = (file: string) => PROCESSES.find((p) => file.startsWith(p.replayPrefix));
/**
 * Processes with no recorded history yet, and why; every other registered process must have
 * one, so a new process cannot ship without its replay check.
 */
const NOT_RECORDED: Record<string, string> = {
  // Its only step is one activity (reassessShops); it has no branching a change could break.
  'deposit-reassessment-': 'a single activity call',
};
const verificationFiles = historyFiles.filter((f) => f.startsWith('verification-'));

describe('recorded histories', () => {
  test('cover every workflow and its main paths', () => {
    expect(historyFiles).toEqual(
      expect.arrayContaining([
        // Recorded before deposits existed: they prove the patched() child start replay-safe.
        'verification-escalated-approved.json',
        'verification-request-info-resubmitted-rejected.json',
        'verification-request-info-abandoned.json',
        'verification-approved-opens-deposit.json',
        'deposit-account-ladder-restored-closed.json',
        // Recorded after a closure began to pause the shortfall episode instead of ending it.
        'deposit-account-paused-by-closure-resumed.json',
        // Recorded with the code before that: the closure ended the episode, and a cancellation
        // started a new one. It proves the pause replay-safe for runs already in flight.
        'deposit-account-closure-in-shortfall-before-pause.json',
        'shop-closure-refunded.json',
        'shop-closure-cancelled.json',
        'shop-closure-cancelled-after-record.json',
        'monthly-settlement-paid.json',
        'monthly-settlement-rerun.json',
        'order-import-drained.json',
        'violation-case-appeal-upheld.json',
        'violation-case-appeal-rejected-expired.json',
        'violation-case-ban.json',
        'entity-change-approved.json',
        'entity-change-rejected.json',
        // Owed amounts taken from the promotion deposit, the rest refunded.
        'promotion-closure-owed-refunded.json',
        'store-binding-youzan-refreshed-revoked-reauthorised-unbound.json',
        'store-binding-taobao-sub-account-refused-bound-unbound.json',
        // A step the database refused for good: needs_attention, a retry, then closed by ops.
        'verification-needs-attention-closed-by-ops.json',
        // Recorded after a process began to end showing its final BusinessStatus (behind patched):
        // the other deposit and settlement histories end without it and prove the patch replay-safe.
        'deposit-account-closed-final-status.json',
        'monthly-settlement-completed-final-status.json',
        // Recorded after a run began to settle in lanes (behind patched): the other settlement
        // histories settle one batch after another and prove the lanes replay-safe.
        'monthly-settlement-lanes.json',
      ]),
    );
  });

  test('every registered process has a recorded history (or says why not)', () => {
    const missing = PROCESSES.filter((p) => !historyFiles.some((f) => f.startsWith(p.replayPrefix)) && !(p.replayPrefix in NOT_RECORDED));
    expect(missing.map((p) => p.workflowType)).toEqual([]);
  });

  test('each history ran its registered process to completion', () => {
    for (const file of historyFiles) {
      const { events } = loadHistory(file);
      const started = events?.[0]?.workflowExecutionStartedEventAttributes;
      const process = processOf(file);
      expect({ file, type: started?.workflowType?.name }).toEqual({ file, type: process?.workflowType });
      expect(events?.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
    }
  });

  test.each(historyFiles)('%s replays against the current workflows', async (file) => {
    await expect(Worker.runReplayHistory({ workflowBundle: workflowBundle() }, loadHistory(file), workflowIdOf(file))).resolves.toBeUndefined();
  });

  test('all histories replay in one replay worker', async () => {
    const histories = historyFiles.map((file) => ({ workflowId: workflowIdOf(file), history: loadHistory(file) }));
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, histories)) results.push(result);
    expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error }))).toEqual(
      histories.map(({ workflowId }) => ({ workflowId, error: undefined })),
    );
  });
});

describe('the tracing interceptors the worker bundles', () => {
  // The production worker bundles the OpenTelemetry workflow interceptors (worker/worker.ts).
  // They add no command: every history, recorded without them, replays with them.
  test('leave every recorded history replaying', async () => {
    const traced = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      workflowInterceptorModules: TRACING_WORKFLOW_MODULES,
      logger: bundlerLogger,
    });
    // The bundle carries the workflow interceptors; the worker adds the span sink they call.
    const { sinks } = tracingWorkerOptions({ spanProcessor: new NoopSpanProcessor(), resource: new Resource({}) });
    const histories = historyFiles.map((file) => ({ workflowId: workflowIdOf(file), history: loadHistory(file) }));
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: traced, sinks }, histories)) results.push(result);
    expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error }))).toEqual(
      histories.map(({ workflowId }) => ({ workflowId, error: undefined })),
    );
  });
});

describe('replay catches a change that is not deterministic', () => {
  test('an extra activity before openCase fails every recorded history with DeterminismViolationError', async () => {
    const changed = await bundleOf('./changed-workflows');
    for (const file of verificationFiles) {
      const replay = Worker.runReplayHistory({ workflowBundle: changed }, loadHistory(file), workflowIdOf(file));
      await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
      await expect(replay).rejects.toThrow(/nondetermini/i);
    }
  });

  test('the same change behind patched() replays the recorded histories', async () => {
    const patchedBundle = await bundleOf('./changed-workflows/patched');
    for (const file of verificationFiles) {
      await expect(Worker.runReplayHistory({ workflowBundle: patchedBundle }, loadHistory(file), workflowIdOf(file))).resolves.toBeUndefined();
    }
  });
});
