import type { Knex } from 'knex';
import type { ViolationLevel, ViolationType } from '../../domain/violations';
import type { ViolationStatus } from '../../workflows/violation-case.defs';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';
import type { CaseRow } from './violations';

/**
 * Violation cases, the newest first: ops see what just happened on top, and a shop's or
 * merchant's record reads like its history. The same order as listByMerchant.
 */
export const VIOLATION_LIST_ORDER: readonly SortKey[] = [
  { sql: 'c.opened_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'c.id', type: 'text', direction: 'desc' },
];

/**
 * A step of the case failed for good and waits for ops: its last needs_attention event has
 * no attention_resolved after it (api/attention.ts openAttention, in SQL).
 */
const ATTENTION_OPEN = `EXISTS (
  SELECT 1 FROM violation_events e
   WHERE e.case_id = c.id AND e.type LIKE 'needs_attention%'
     AND NOT EXISTS (SELECT 1 FROM violation_events r WHERE r.case_id = c.id AND r.type LIKE 'attention_resolved%' AND r.id > e.id))`;

export interface ViolationListFilters {
  merchantId?: string;
  shopId?: string;
  /** A stored status (the case shows it, no step waiting for ops), or needs_attention. */
  status?: ViolationStatus | 'needs_attention';
  level?: ViolationLevel;
  type?: ViolationType;
  /** true: an appeal is filed and not yet decided; false: none is. */
  appealPending?: boolean;
}

/** A case as the list shows it: its row's own columns, the fine as a number, and whether it waits for ops. */
export type ListedViolation = Pick<
  CaseRow,
  'id' | 'merchant_id' | 'shop_id' | 'type' | 'reported_level' | 'level' | 'status' | 'points' | 'appeal' | 'appeal_deadline' | 'effect_ends_at' | 'opened_at' | 'closed_at'
> & { needs_attention: boolean; fine_deducted_fen: number };

export function createViolationList(db: Knex) {
  return {
    async page(filters: ViolationListFilters, after: Position | undefined, limit: number): Promise<KeysetPage<ListedViolation>> {
      const q = db('violation_cases as c').select(
        'c.id',
        'c.merchant_id',
        'c.shop_id',
        'c.type',
        'c.reported_level',
        'c.level',
        'c.status',
        'c.points',
        'c.fine_deducted_fen',
        'c.appeal',
        'c.appeal_deadline',
        'c.effect_ends_at',
        'c.opened_at',
        'c.closed_at',
        db.raw(`${ATTENTION_OPEN} AS needs_attention`),
      );
      if (filters.merchantId !== undefined) void q.where('c.merchant_id', filters.merchantId);
      if (filters.shopId !== undefined) void q.where('c.shop_id', filters.shopId);
      if (filters.level !== undefined) void q.where('c.level', filters.level);
      if (filters.type !== undefined) void q.where('c.type', filters.type);
      if (filters.status === 'needs_attention') void q.whereRaw(ATTENTION_OPEN);
      else if (filters.status !== undefined) void q.where('c.status', filters.status).whereRaw(`NOT ${ATTENTION_OPEN}`);
      if (filters.appealPending === true) void q.where('c.status', 'appealed');
      if (filters.appealPending === false) void q.whereNot('c.status', 'appealed');
      return keysetPage<ListedViolation>(db, q, VIOLATION_LIST_ORDER, after, limit);
    },
  };
}
