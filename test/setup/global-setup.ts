import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Bundles the workflows once per run (webpack takes seconds; every Worker.create with
 * workflowsPath would pay it again) and hands the path to the suites.
 */
export default async function globalSetup(): Promise<void> {
  const bundlePath = path.resolve(__dirname, '../.bundle/workflows.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`), log() {} },
  });
  fs.mkdirSync(path.dirname(bundlePath), { recursive: true });
  fs.writeFileSync(bundlePath, code);
  process.env.MERCHANT_OPS_WORKFLOW_BUNDLE = bundlePath;
}
