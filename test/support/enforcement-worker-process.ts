/**
 * A worker with the enforcement activities in a process of its own (see killable-worker.ts),
 * so a test can kill it with SIGKILL mid-page.
 */
import { createEnforcementActivities } from '../../activities/enforcement';
import { runWorkerProcess } from './killable-worker';

runWorkerProcess('enforcement', (deps, db) => createEnforcementActivities({ db, platform: deps.platform, retryDelayMs: 20 }));
