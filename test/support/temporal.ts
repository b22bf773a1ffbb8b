import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ensureSearchAttributes } from '../../worker/search-attributes';

const TOOLS_BIN = path.resolve(__dirname, '../../.tools/venv/bin');

/** The time-skipping server installed by scripts/install-temporal.sh (or TEMPORAL_TEST_SERVER_PATH). */
export function testServerPath(): string {
  const found = process.env.TEMPORAL_TEST_SERVER_PATH ?? path.join(TOOLS_BIN, 'temporal-test-server');
  if (!fs.existsSync(found)) throw new Error(`no time-skipping test server at ${found}: run npm run tools`);
  return found;
}

export function temporalCliPath(): string {
  const found = process.env.TEMPORAL_CLI_PATH ?? path.join(TOOLS_BIN, 'temporal');
  if (!fs.existsSync(found)) throw new Error(`no temporal CLI at ${found}: run npm run tools`);
  return found;
}

export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** The bundle made once by test/setup/global-setup.ts. */
export function workflowBundle(): { codePath: string } {
  const codePath = process.env.MERCHANT_OPS_WORKFLOW_BUNDLE ?? path.resolve(__dirname, '../.bundle/workflows.js');
  return { codePath };
}

// The SDK logs every worker state change at INFO; tests only want warnings.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by another suite in this process.
}
