import type { Knex } from 'knex';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../../keyset';
import { toStatement, type StatementRow, type StatementStatus, type Statement } from './records';
import type { RunRow, RunStatus } from './runs';
import type { StatementKind } from '../../../domain/settlement';

/** Settlement runs, the latest period first: one row per period. */
export const RUN_LIST_ORDER: readonly SortKey[] = [{ sql: 'period', type: 'text', direction: 'desc' }];

/** Statements, the latest period first, then by merchant (statements_period_merchant_idx, migration 018). */
export const STATEMENT_LIST_ORDER: readonly SortKey[] = [
  { sql: 'period', type: 'text', direction: 'desc' },
  { sql: 'merchant_id', type: 'text', direction: 'asc' },
];

/** A run as the list shows it: its row, with the merchants left without a statement (a category with no fee rate) counted. */
export type ListedRun = Omit<RunRow, 'failures'> & { failure_count: number };

export interface StatementListFilters {
  merchantId?: string;
  period?: string;
  status?: StatementStatus;
  kind?: StatementKind;
}

export function createSettlementLists(db: Knex) {
  return {
    async runs(filters: { status?: RunStatus }, after: Position | undefined, limit: number): Promise<KeysetPage<ListedRun>> {
      const q = db('settlement_runs').select(
        'period',
        'status',
        'started_at',
        'completed_at',
        'merchants_total',
        'merchants_done',
        'totals',
        db.raw('jsonb_array_length(failures) AS failure_count'),
      );
      if (filters.status !== undefined) void q.where('status', filters.status);
      return keysetPage<ListedRun>(db, q, RUN_LIST_ORDER, after, limit);
    },

    async statements(filters: StatementListFilters, after: Position | undefined, limit: number): Promise<KeysetPage<Statement>> {
      const q = db('statements').select('*');
      if (filters.merchantId !== undefined) void q.where('merchant_id', filters.merchantId);
      if (filters.period !== undefined) void q.where('period', filters.period);
      if (filters.status !== undefined) void q.where('status', filters.status);
      if (filters.kind !== undefined) void q.where('kind', filters.kind);
      const page = await keysetPage<StatementRow>(db, q, STATEMENT_LIST_ORDER, after, limit);
      return { rows: page.rows.map(toStatement), next: page.next };
    },
  };
}
