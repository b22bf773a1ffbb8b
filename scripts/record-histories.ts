/**
 * Records the histories that test/replay/replay.test.ts replays: representative
 * verification reviews run on the time-skipping server through the full test stack
 * (real worker, activities, database and sandbox platform), each saved as JSON in the
 * format of `temporal workflow show --output json`.
 *
 *   npm run record-histories        (= tsx scripts/record-histories.ts)
 *
 * Read test/replay/replay.test.ts before running this: histories are recorded when a
 * workflow is added or a scenario is missing, never to make a failing replay pass.
 *
 * The workflows are bundled fresh from workflows/ (not test/.bundle/, which may be stale),
 * so the histories always come from the code in the checkout. The clock of the test server
 * starts at the real time: its year (and the next few working days) must be in the
 * working-day calendar, as in production.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Principal } from '../api/auth';
import { individualRequest, eventually } from '../test/support/fixtures';
import { startStack, type Stack } from '../test/support/stack';
import { verificationStateQuery, type VerificationState } from '../workflows/verification.defs';

const HISTORIES_DIR = path.resolve(__dirname, '../test/replay/histories');
const MINUTE = 60_000;
const ops: Principal = { sub: 'olga', role: 'ops' };
const reviewer: Principal = { sub: 'rui', role: 'reviewer' };
const merchantOf = (merchantId: string): Principal => ({ sub: `u-${merchantId}`, role: 'merchant', merchantId });

type Scenario = (stack: Stack, merchantId: string) => Promise<string>;

const waitForState = (stack: Stack, workflowId: string, done: (s: VerificationState) => boolean) =>
  eventually(() => stack.env.client.workflow.getHandle(workflowId).query(verificationStateQuery), done, 30_000);

/** Waits for the workflow to close without `result()` on env.client, which would skip time. */
async function closedHandle(stack: Stack, workflowId: string): Promise<WorkflowHandle> {
  const handle = new Client({ connection: stack.env.connection }).workflow.getHandle(workflowId);
  await eventually(() => handle.describe(), (d) => d.status.name !== 'RUNNING', 30_000);
  await handle.result();
  return handle;
}

const scenarios: Record<string, Scenario> = {
  /** The SLA runs out, the supervisor is told, then a reviewer approves and a shop opens. */
  async 'escalated-approved'(stack, merchantId) {
    const now = await stack.env.currentTimeMs();
    const started = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), new Date(now));
    const planned = await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await stack.env.sleep(Date.parse(planned.deadline as string) - now + MINUTE);
    await waitForState(stack, started.workflowId, (s) => s.overdue);
    await stack.verifications.decide(started.caseId, { decision: 'approve', reasons: [] }, reviewer);
    return started.workflowId;
  },

  /** A request for information answered after 2 days, a fresh SLA, then a rejection. */
  async 'request-info-resubmitted-rejected'(stack, merchantId) {
    const started = await stack.verifications.start(individualRequest(merchantId), ops, new Date(await stack.env.currentTimeMs()));
    await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await stack.verifications.decide(started.caseId, { decision: 'request_info', reasons: ['ID photo is blurred'] }, reviewer);
    await stack.env.sleep('2 days');
    const { idNumber, bankCard, documents } = individualRequest(merchantId);
    await stack.verifications.resubmit(started.caseId, { idNumber, bankCard, documents }, merchantOf(merchantId), new Date(await stack.env.currentTimeMs()));
    await waitForState(stack, started.workflowId, (s) => s.history.filter((h) => h.type === 'deadline_set').length === 2);
    await stack.verifications.decide(started.caseId, { decision: 'reject', reasons: ['name does not match the ID card'] }, reviewer);
    return started.workflowId;
  },

  /** A request for information left unanswered past the 7-day window. */
  async 'request-info-abandoned'(stack, merchantId) {
    const started = await stack.verifications.start(individualRequest(merchantId), ops, new Date(await stack.env.currentTimeMs()));
    await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await stack.verifications.decide(started.caseId, { decision: 'request_info', reasons: ['bank card photo missing'] }, reviewer);
    await stack.env.sleep('7 days');
    await stack.env.sleep(MINUTE);
    return started.workflowId;
  },
};

async function bundleWorkflows(): Promise<string> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: (m) => console.warn(m), error: (m) => console.error(m) },
  });
  const bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'merchant-ops-record-')), 'workflows.js');
  fs.writeFileSync(bundlePath, code);
  return bundlePath;
}

async function main(): Promise<void> {
  process.env.MERCHANT_OPS_WORKFLOW_BUNDLE = await bundleWorkflows();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  const stack = await startStack();
  try {
    for (const [name, run] of Object.entries(scenarios)) {
      const workflowId = await run(stack, `m-replay-${name}`);
      const handle = await closedHandle(stack, workflowId);
      const history = await handle.fetchHistory();
      // Re-indented so a re-recording shows up as a readable diff.
      const json = `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`;
      const file = path.join(HISTORIES_DIR, `verification-${name}.json`);
      fs.writeFileSync(file, json);
      console.log(`${path.relative(process.cwd(), file)}: ${history.events?.length} events, ${json.length} bytes`);
    }
  } finally {
    await stack.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
