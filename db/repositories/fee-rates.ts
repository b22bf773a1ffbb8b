import type { Knex } from 'knex';
import type { FeeRate } from '../../domain/settlement';
import { FEE_RATES_LOCK, FEE_RATE_HISTORY_CONSTRAINT } from '../migrations/019_fee_rates_and_idempotency';

/**
 * The fee table (docs/rules.md §3): versions of each category's rate by the Shanghai date they
 * take effect. The database keeps the history statements used (migration 019); this module
 * reads it and adds versions, answering its refusals as typed errors.
 */

export interface FeeRateVersion extends FeeRate {
  /** The day the next version takes over (exclusive); null while it is the latest. */
  effectiveUntil: string | null;
  createdBy: string;
  createdAt: Date;
}

/** A version for this category and day exists; versions are never replaced. */
export class FeeRateExistsError extends Error {
  constructor(
    readonly category: string,
    readonly effectiveFrom: string,
  ) {
    super(`a ${category} rate from ${effectiveFrom} exists; rates are never edited: add one from another date`);
    this.name = 'FeeRateExistsError';
  }
}

/** The new version would take over days whose lines a statement already priced. */
export class FeeRateRewritesHistoryError extends Error {
  constructor(
    readonly category: string,
    readonly effectiveFrom: string,
    /** The latest receipt date a statement priced in the window the rate would take over. */
    readonly lastPricedDate: string,
  ) {
    super(
      `a statement priced a ${category} line confirmed on ${lastPricedDate}: a rate from ${effectiveFrom} would rewrite it; ` +
        'a new rate may take effect only after the last day a statement priced under the rate it supersedes',
    );
    this.name = 'FeeRateRewritesHistoryError';
  }
}

interface FeeRateRow {
  category: string;
  effective_from: string;
  effective_until: string | null;
  union_fee_bp: number;
  channel_share_bp: number;
  created_by: string;
  created_at: Date;
}

const DAY = `'YYYY-MM-DD'`;

const toVersion = (r: FeeRateRow): FeeRateVersion => ({
  category: r.category,
  effectiveFrom: r.effective_from,
  effectiveUntil: r.effective_until,
  unionFeeBp: r.union_fee_bp,
  channelShareBp: r.channel_share_bp,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

function pgError(err: unknown): { code?: string; constraint?: string; detail?: string } {
  return (err ?? {}) as { code?: string; constraint?: string; detail?: string };
}

export function createFeeRateRepository(db: Knex) {
  /** Every version with its window (lines.ts RATES_CTE reads the same windows). */
  const versions = (q: Knex) =>
    q
      .select(
        'category',
        q.raw(`to_char(effective_from, ${DAY}) AS effective_from`),
        q.raw(`to_char(lead(effective_from) OVER (PARTITION BY category ORDER BY effective_from), ${DAY}) AS effective_until`),
        'union_fee_bp',
        'channel_share_bp',
        'created_by',
        'created_at',
      )
      .from('fee_rates');

  return {
    /**
     * The versions, by category then date; `at` keeps the one in force on that Shanghai day
     * per category (a category with none that day is left out).
     */
    async list(filter: { category?: string; at?: string } = {}): Promise<FeeRateVersion[]> {
      let query = db.select('*').from(versions(db).as('v'));
      if (filter.category !== undefined) query = query.where('category', filter.category);
      if (filter.at !== undefined) {
        query = query.where('effective_from', '<=', filter.at).where((w) => w.whereNull('effective_until').orWhere('effective_until', '>', filter.at!));
      }
      const rows = (await query.orderBy([{ column: 'category' }, { column: 'effective_from' }])) as FeeRateRow[];
      return rows.map(toVersion);
    },

    /**
     * Adds a version. Refused when the day exists for the category (FeeRateExistsError) or a
     * statement priced a line in the window the version would take over
     * (FeeRateRewritesHistoryError, decided by the table's trigger under the fee-rate lock).
     */
    async add(rate: FeeRate, createdBy: string): Promise<FeeRateVersion> {
      try {
        return await db.transaction(async (trx) => {
          // Taken before the insert's own lock, so two additions queue instead of deadlocking.
          await trx.raw(`SELECT pg_advisory_xact_lock(${FEE_RATES_LOCK})`);
          await trx('fee_rates').insert({
            category: rate.category,
            effective_from: rate.effectiveFrom,
            union_fee_bp: rate.unionFeeBp,
            channel_share_bp: rate.channelShareBp,
            created_by: createdBy,
          });
          const rows = (await trx.select('*').from(versions(trx).as('v')).where({ category: rate.category, effective_from: rate.effectiveFrom })) as FeeRateRow[];
          return toVersion(rows[0]!);
        });
      } catch (err) {
        const e = pgError(err);
        if (e.code === '23505') throw new FeeRateExistsError(rate.category, rate.effectiveFrom);
        if (e.code === '23514' && e.constraint === FEE_RATE_HISTORY_CONSTRAINT) {
          throw new FeeRateRewritesHistoryError(rate.category, rate.effectiveFrom, e.detail ?? 'an earlier day');
        }
        throw err;
      }
    },
  };
}

export type FeeRateRepository = ReturnType<typeof createFeeRateRepository>;
