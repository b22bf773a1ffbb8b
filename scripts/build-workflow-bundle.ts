import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { TRACING_WORKFLOW_MODULES } from '../worker/worker';

/**
 * `npm run build` bundles the workflows ahead, so a production worker starts without webpack
 * (and without the build tools in its image): dist/workflow-bundle.js, which the worker loads
 * through WORKFLOW_BUNDLE_PATH. Run from dist/ it bundles the compiled workflows next to it.
 */
export async function buildWorkflowBundle(outFile: string): Promise<{ outFile: string; bytes: number }> {
  // The tracing interceptors go in the bundle: the worker adds them only when it bundles itself.
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: TRACING_WORKFLOW_MODULES });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, code);
  return { outFile, bytes: Buffer.byteLength(code) };
}

if (require.main === module) {
  const outFile = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'workflow-bundle.js'));
  buildWorkflowBundle(outFile).then(
    ({ bytes }) => process.stdout.write(`workflow bundle: ${outFile} (${Math.round(bytes / 1024)} KiB)\n`),
    (err: unknown) => {
      process.stderr.write(`workflow bundle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
