import { Gauge, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { calendarCoverage, type CalendarSource } from '../domain/calendar';
import { LADDER_STEPS } from '../domain/deposit-policy';
import type { OperationsGauges } from '../db/repositories/operations-gauges';

/**
 * The business gauges the worker serves beside the Temporal SDK's runtime metrics. They are
 * computed on each scrape (a few aggregate queries, db/repositories/operations-gauges.ts) and
 * a scrape waits `timeoutMs` at most: past it, or on a database error, the gauges keep their
 * last values and `merchant_ops_business_gauges_up` says 0, so a dashboard shows stale data as
 * stale and an alert can fire on it. Every label has a fixed, small set of values.
 */
export interface BusinessGauges {
  registry: Registry;
  /** Re-reads every gauge; never throws. */
  refresh(now?: Date): Promise<void>;
}

const REVIEW_KINDS = ['verification', 'entity_change'];
const OPEN_REVIEW_STATUSES = ['in_review', 'awaiting_resubmission', 'needs_attention'];

export function createBusinessGauges(deps: {
  gauges: OperationsGauges;
  calendar: CalendarSource;
  timeoutMs: number;
  logger: Logger;
}): BusinessGauges {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name: `merchant_ops_${name}`, help, labelNames, registers: [registry] });
  const openReviews = gauge('open_reviews', 'Verification and entity-change reviews still open, by kind and status', ['kind', 'status']);
  const overdueReviews = gauge('overdue_reviews', 'Open reviews past their deadline (escalated), by kind', ['kind']);
  const shortfall = gauge(
    'shops_in_shortfall',
    'Shops with an open deposit shortfall episode, by the furthest ladder step taken (none: not yet notified)',
    ['step'],
  );
  const runMerchants = gauge(
    'settlement_run_merchants',
    'The latest settlement run: merchants to settle (total), settled (done), failed',
    ['period', 'state'],
  );
  const runRunning = gauge('settlement_run_running', '1 while the latest settlement run is running', ['period']);
  const coverage = gauge(
    'calendar_coverage_days_left',
    'Calendar days until official working-day data ends (0 when there is none); deadlines after it are provisional',
  );
  const up = gauge('business_gauges_up', '1 when the last scrape read every business gauge, 0 when it failed or timed out');

  async function read(now: Date): Promise<void> {
    const [reviews, shops, run, calendar] = await Promise.all([
      deps.gauges.openReviews(),
      deps.gauges.shopsInShortfall(),
      deps.gauges.latestSettlementRun(),
      deps.calendar.current(),
    ]);
    for (const kind of REVIEW_KINDS) {
      for (const status of OPEN_REVIEW_STATUSES) openReviews.set({ kind, status }, 0);
      overdueReviews.set({ kind }, 0);
    }
    for (const r of reviews) {
      openReviews.set({ kind: r.kind, status: r.status }, r.open);
      overdueReviews.inc({ kind: r.kind }, r.overdue);
    }
    for (const step of ['none', ...LADDER_STEPS]) shortfall.set({ step }, 0);
    for (const s of shops) shortfall.set({ step: s.step }, s.shops);
    // Only the latest run: the series of a past period go away with it.
    runMerchants.reset();
    runRunning.reset();
    if (run) {
      runMerchants.set({ period: run.period, state: 'total' }, run.merchantsTotal ?? 0);
      runMerchants.set({ period: run.period, state: 'done' }, run.merchantsDone);
      runMerchants.set({ period: run.period, state: 'failed' }, run.failures);
      runRunning.set({ period: run.period }, run.status === 'running' ? 1 : 0);
    }
    coverage.set(calendarCoverage(calendar, now).daysLeft ?? 0);
  }

  return {
    registry,
    async refresh(now = new Date()) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`business gauges took longer than ${deps.timeoutMs} ms`)), deps.timeoutMs);
      });
      try {
        await Promise.race([read(now), timedOut]);
        up.set(1);
      } catch (err) {
        up.set(0);
        deps.logger.warn({ err }, 'business gauges not refreshed');
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
