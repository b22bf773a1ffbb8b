import { readFileSync } from 'node:fs';
import { workflowBundle } from '../support/temporal';

/*
 * The worker evaluates the workflow bundle's modules again for every workflow it starts (each
 * run gets fresh module state), so whatever the bundle holds is paid per process: a risk scan
 * opening a thousand violation cases pays it a thousand times. The working-day data (2 MB of
 * JSON) and zod once made up three quarters of the bundle and most of a case's start on the
 * worker; workflow code reaches their data-free parts through domain/shanghai-time.ts,
 * domain/working-days.ts and domain/deposit-steps.ts instead.
 */
describe('the workflow bundle (built by the test setup from workflows/)', () => {
  const bundle = readFileSync(workflowBundle().codePath, 'utf8');

  test.each(['chinese-days', 'zod'])('holds nothing of %s', (pkg) => {
    expect(bundle).not.toContain(`node_modules/${pkg}/`);
  });
});
