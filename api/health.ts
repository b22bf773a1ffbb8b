import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';

/** Open health endpoints: live = the process answers; ready = its dependencies do too. */
export function createHealthRouter({ db, temporal }: { db: Db; temporal: Client }): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_req, res) => {
    const [database, workflows] = await Promise.all([
      db.raw('select 1').then(() => 'ok', () => 'unavailable'),
      temporal.workflowService.getSystemInfo({}).then(() => 'ok', () => 'unavailable'),
    ]);
    const ready = database === 'ok' && workflows === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', database, temporal: workflows });
  });
  return router;
}
