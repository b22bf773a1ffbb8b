import type { Knex } from 'knex';
import { LADDER_STEPS } from '../../domain/deposit-policy';

/**
 * The counts behind the worker's business gauges (worker/business-gauges.ts). Each is one
 * aggregate query over a small or indexed set (open cases, open episodes, the latest run), run
 * on every scrape; none returns a merchant, a shop or any personal data, only counts by a
 * bounded label.
 */
export interface OpenReviewCount {
  kind: string;
  status: string;
  open: number;
  overdue: number;
}

export interface ShortfallCount {
  /** The furthest ladder step the open episode has taken, or 'none' before its first step. */
  step: string;
  shops: number;
}

export interface SettlementRunProgress {
  period: string;
  status: string;
  merchantsTotal: number | null;
  merchantsDone: number;
  failures: number;
}

// The statuses a review can still be acted on in (as db/repositories/verification-cases.ts reads them).
const OPEN_REVIEW_STATUSES = ['in_review', 'awaiting_resubmission', 'needs_attention'];

export function createOperationsGauges(db: Knex) {
  return {
    async openReviews(): Promise<OpenReviewCount[]> {
      const rows: { kind: string; status: string; open: string | number; overdue: string | number }[] = await db('verification_cases')
        .select('kind', 'status')
        .count({ open: '*' })
        .select(db.raw('count(*) FILTER (WHERE overdue) AS overdue'))
        .whereIn('status', OPEN_REVIEW_STATUSES)
        .groupBy('kind', 'status');
      return rows.map((r) => ({ kind: r.kind, status: r.status, open: Number(r.open), overdue: Number(r.overdue) }));
    },

    async shopsInShortfall(): Promise<ShortfallCount[]> {
      // The furthest step per open episode by the ladder's order (array_position), then shops per step.
      const { rows } = (await db.raw(
        `SELECT furthest, count(*) AS shops FROM (
           SELECT e.id, max(array_position(?::text[], s.step)) AS furthest
           FROM deposit_episodes e LEFT JOIN deposit_episode_steps s ON s.episode_id = e.id
           WHERE e.ended_at IS NULL GROUP BY e.id) open_episodes
         GROUP BY furthest`,
        [[...LADDER_STEPS]],
      )) as { rows: { furthest: number | null; shops: string | number }[] };
      return rows.map((r) => ({ step: r.furthest === null ? 'none' : (LADDER_STEPS[r.furthest - 1] ?? 'unknown'), shops: Number(r.shops) }));
    },

    async latestSettlementRun(): Promise<SettlementRunProgress | undefined> {
      const row = (await db('settlement_runs')
        .select('period', 'status', 'merchants_total', 'merchants_done', db.raw('jsonb_array_length(failures) AS failures'))
        .orderBy('period', 'desc')
        .first()) as
        | { period: string; status: string; merchants_total: number | null; merchants_done: number; failures: string | number }
        | undefined;
      if (!row) return undefined;
      return {
        period: row.period,
        status: row.status,
        merchantsTotal: row.merchants_total,
        merchantsDone: Number(row.merchants_done),
        failures: Number(row.failures),
      };
    },
  };
}

export type OperationsGauges = ReturnType<typeof createOperationsGauges>;
