import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { RETRY_AFTER_SECONDS } from './outages';
import { calendarCoverage, type CalendarSource } from '../domain/calendar';

/** How long readiness waits for each dependency: below a load balancer's usual probe timeout. */
const READY_CHECK_MS = 2_000;

async function answersWithin(check: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'unavailable'>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), READY_CHECK_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(check).then(() => 'ok' as const, () => 'unavailable' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthDeps {
  db: Db;
  temporal: Client;
  /** The working-day calendar the workers use (package, file, years loaded by ops). */
  calendar: CalendarSource;
  now?: () => Date;
}

/**
 * Open health endpoints: live = the process answers; ready = its dependencies do too. Ready
 * also reports how far the official working-day data reaches: under 60 days left it warns
 * (deadlines after it are provisional), but the service stays ready, since provisional
 * deadlines keep every process going.
 */
export function createHealthRouter({ db, temporal, calendar, now = () => new Date() }: HealthDeps): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_req, res) => {
    // Each check is bounded: a probe that hangs on a dead dependency is no answer at all.
    const [database, workflows] = await Promise.all([
      answersWithin(() => db.raw('select 1')),
      answersWithin(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const coverage = database === 'ok' ? await calendar.current().then((c) => calendarCoverage(c, now()), () => null) : null;
    const ready = database === 'ok' && workflows === 'ok';
    const body: Record<string, unknown> = { status: ready ? 'ok' : 'unavailable', database, temporal: workflows };
    if (coverage) {
      body.calendar = {
        ...coverage,
        ...(coverage.warning ? { message: `official working-day data ends ${coverage.officialThrough}: load next year (PUT /v1/admin/calendar/:year)` } : {}),
      };
    }
    if (!ready) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(ready ? 200 : 503).json(body);
  });
  return router;
}
