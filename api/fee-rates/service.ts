import type { Knex } from 'knex';
import { createFeeRateRepository, FeeRateExistsError, FeeRateRewritesHistoryError, type FeeRateVersion } from '../../db/repositories/fee-rates';
import { createSettlementRunRepository } from '../../db/repositories/settlement/runs';
import type { Principal } from '../auth';
import { HttpError } from '../errors';
import type { SettlementService } from '../settlements/service';
import type { FeeRateBody } from './schemas';

export interface FeeRateServiceDeps {
  db: Knex;
  /** Re-runs the periods a missing rate held back. */
  settlements: Pick<SettlementService, 'run'>;
}

const view = (r: FeeRateVersion) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() });

/** The fee table through the API (docs/rules.md §3): read it, add a version from a date. */
export function createFeeRateService({ db, settlements }: FeeRateServiceDeps) {
  const rates = createFeeRateRepository(db);
  const runs = createSettlementRunRepository(db);

  /**
   * A run that ended with merchants waiting for a rate of this category settles them once it
   * runs again: the rate is in the table now, so start it. A start that fails is reported, not
   * thrown: the rate is added either way, and POST /v1/settlements re-runs a period by hand.
   */
  async function resumeBlockedRuns(category: string) {
    const resumed: Array<{ period: string; status: 'started' | 'running' | 'not_started'; message?: string }> = [];
    for (const period of await runs.periodsBlockedBy(category)) {
      try {
        resumed.push({ period, status: (await settlements.run(period)).status });
      } catch {
        // The cause (a client's or driver's words) never goes in the answer, which is also kept under its Idempotency-Key.
        resumed.push({ period, status: 'not_started', message: `the re-run could not start; run POST /v1/settlements for ${period}` });
      }
    }
    return resumed;
  }

  return {
    async list(filter: { category?: string; at?: string }) {
      return { rates: (await rates.list(filter)).map(view) };
    },

    async add(body: FeeRateBody, principal: Principal) {
      try {
        const rate = await rates.add(body, principal.sub);
        return { rate: view(rate), resumedSettlements: await resumeBlockedRuns(rate.category) };
      } catch (err) {
        if (err instanceof FeeRateExistsError) {
          throw new HttpError(409, 'fee_rate_exists', err.message, { category: err.category, effectiveFrom: err.effectiveFrom });
        }
        if (err instanceof FeeRateRewritesHistoryError) {
          throw new HttpError(409, 'fee_rate_used', err.message, { category: err.category, effectiveFrom: err.effectiveFrom, lastPricedDate: err.lastPricedDate });
        }
        throw err;
      }
    },
  };
}

export type FeeRateService = ReturnType<typeof createFeeRateService>;
