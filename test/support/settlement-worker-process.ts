/**
 * A worker with every activity, settlement cut small, in a process of its own (see
 * killable-worker.ts). Settlement is cut into ranges of 5 merchants, batches of 10 and payout
 * pages of 10, so a small data set has many places to be killed in.
 */
import { createSettlementActivities } from '../../activities/settlement';
import { createActivities } from '../../worker/dependencies';
import { runWorkerProcess } from './killable-worker';

runWorkerProcess('settlement', (deps, db) => ({
  ...createActivities(deps),
  ...createSettlementActivities({
    db,
    platform: deps.platform,
    thresholds: deps.settlementThresholds,
    sizes: { merchantsPerRange: 5, merchantsPerBatch: 10, payoutsPerPage: 10 },
  }),
}));
