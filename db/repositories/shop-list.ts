import type { Knex } from 'knex';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

/** Shops by id: a stable order the deposit states below do not reshuffle between two pages. */
export const SHOP_LIST_ORDER: readonly SortKey[] = [{ sql: 's.id', type: 'text', direction: 'asc' }];

/**
 * Where a shop's deposit stands, as the deposit process shows it (its BusinessStatus), read
 * from the rows it writes: `closing` / `closed` from the shop; `shortfall` while a top-up
 * episode is open (the restriction ladder runs); `awaiting_deposit` when the deposit falls
 * short without an episode (a new shop that has not paid its first deposit: the ladder
 * guards a deposit only once it was paid, docs/rules.md §2), or has no requirement yet;
 * else `open`.
 */
export const DEPOSIT_STATES = ['awaiting_deposit', 'open', 'shortfall', 'closing', 'closed'] as const;
export type DepositState = (typeof DEPOSIT_STATES)[number];

const balanceOf = (kind: string) => `(SELECT COALESCE(SUM(le.amount_fen), 0) FROM ledger_entries le WHERE le.account_id = s.id || ':${kind}')`;
const DEPOSIT = balanceOf('deposit');
// The receivable is negative while owed.
const OWED = `GREATEST(0, -${balanceOf('receivable')})`;
// docs/rules.md §2: requirement + owed − balance (domain/deposit.ts shortfallFen).
const SHORTFALL = `GREATEST(0, COALESCE(d.required_fen, 0) + ${OWED} - ${DEPOSIT})`;
const STATE = `CASE WHEN s.status = 'closed' THEN 'closed' WHEN s.status = 'closing' THEN 'closing'
  WHEN e.id IS NOT NULL THEN 'shortfall' WHEN d.shop_id IS NULL OR ${SHORTFALL} > 0 THEN 'awaiting_deposit' ELSE 'open' END`;

/** Each state as a condition the query can filter on before it computes a single balance where it can. */
const STATE_CONDITION: Record<DepositState, string> = {
  closed: `s.status = 'closed'`,
  closing: `s.status = 'closing'`,
  shortfall: `s.status NOT IN ('closed', 'closing') AND e.id IS NOT NULL`,
  awaiting_deposit: `s.status NOT IN ('closed', 'closing') AND e.id IS NULL AND (d.shop_id IS NULL OR ${SHORTFALL} > 0)`,
  open: `s.status NOT IN ('closed', 'closing') AND e.id IS NULL AND d.shop_id IS NOT NULL AND ${SHORTFALL} = 0`,
};

export interface ShopListFilters {
  merchantId?: string;
  depositState?: DepositState;
}

export interface ListedShop {
  id: string;
  merchant_id: string;
  shop_type: string;
  status: string;
  deposit_state: DepositState;
  required_fen: number | null;
  balance_fen: number;
  promotion_balance_fen: number;
  owed_fen: number;
  shortfall_fen: number;
  episode_id: string | null;
  episode_started_at: Date | null;
  ladder_step: string | null;
  ladder_step_at: Date | null;
  restrictions: string[];
}

export function createShopList(db: Knex) {
  return {
    async page(filters: ShopListFilters, after: Position | undefined, limit: number): Promise<KeysetPage<ListedShop>> {
      const q = db('shops as s')
        .leftJoin('deposit_accounts as d', 'd.shop_id', 's.id')
        // At most one open episode per shop (deposit_episodes_one_open_per_shop).
        .leftJoin('deposit_episodes as e', (j) => j.on('e.shop_id', 's.id').andOnNull('e.ended_at'))
        .joinRaw(
          'LEFT JOIN LATERAL (SELECT st.step, st.at FROM deposit_episode_steps st WHERE st.episode_id = e.id ORDER BY st.at DESC, st.step DESC LIMIT 1) AS last_step ON true',
        )
        .select(
          's.id',
          's.merchant_id',
          's.shop_type',
          's.status',
          'd.required_fen',
          'e.id as episode_id',
          'e.started_at as episode_started_at',
          'last_step.step as ladder_step',
          'last_step.at as ladder_step_at',
          db.raw(`${STATE} AS deposit_state`),
          db.raw(`${DEPOSIT}::bigint AS balance_fen`),
          db.raw(`${balanceOf('promotion_deposit')}::bigint AS promotion_balance_fen`),
          db.raw(`${OWED}::bigint AS owed_fen`),
          db.raw(`${SHORTFALL}::bigint AS shortfall_fen`),
          db.raw(`ARRAY(SELECT DISTINCT r.restriction FROM shop_restrictions r WHERE r.shop_id = s.id ORDER BY r.restriction) AS restrictions`),
        );
      if (filters.merchantId !== undefined) void q.where('s.merchant_id', filters.merchantId);
      if (filters.depositState !== undefined) void q.whereRaw(STATE_CONDITION[filters.depositState]);
      return keysetPage<ListedShop>(db, q, SHOP_LIST_ORDER, after, limit);
    },
  };
}
