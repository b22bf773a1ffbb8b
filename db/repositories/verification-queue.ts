import type { Knex } from 'knex';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';
import type { CaseKind } from './verification-cases';

/**
 * The reviewers' work queue: verification cases (first verifications and changes of entity)
 * by deadline, the earliest first, so the oldest promise is kept first; a case with no
 * deadline yet (its process has not planned it) comes after every dated one. Only what a
 * queue needs: no legal name, no submission (personal data stays in the case's own view).
 */
export const VERIFICATION_QUEUE_ORDER: readonly SortKey[] = [
  // The same expression as verification_cases_queue_idx (migration 018).
  { sql: "COALESCE(deadline, 'infinity'::timestamptz)", type: 'timestamptz', direction: 'asc' },
  { sql: 'id', type: 'text', direction: 'asc' },
];

export interface VerificationQueueFilters {
  merchantId?: string;
  status?: string;
  overdue?: boolean;
  entityType?: string;
  kind?: CaseKind;
  /** Submitted at or after. */
  submittedFrom?: Date;
  /** Submitted before. */
  submittedTo?: Date;
}

export interface QueuedCase {
  id: string;
  merchant_id: string;
  kind: CaseKind;
  entity_type: string;
  status: string;
  submitted_at: Date;
  deadline: Date | null;
  deadline_provisional: boolean;
  overdue: boolean;
  resubmit_by: Date | null;
  closed_at: Date | null;
}

export function createVerificationQueue(db: Knex) {
  return {
    async page(filters: VerificationQueueFilters, after: Position | undefined, limit: number): Promise<KeysetPage<QueuedCase>> {
      const q = db('verification_cases').select(
        'id',
        'merchant_id',
        'kind',
        'entity_type',
        'status',
        'submitted_at',
        'deadline',
        'deadline_provisional',
        'overdue',
        'resubmit_by',
        'closed_at',
      );
      if (filters.merchantId !== undefined) void q.where('merchant_id', filters.merchantId);
      if (filters.status !== undefined) void q.where('status', filters.status);
      if (filters.overdue !== undefined) void q.where('overdue', filters.overdue);
      if (filters.entityType !== undefined) void q.where('entity_type', filters.entityType);
      if (filters.kind !== undefined) void q.where('kind', filters.kind);
      if (filters.submittedFrom !== undefined) void q.where('submitted_at', '>=', filters.submittedFrom);
      if (filters.submittedTo !== undefined) void q.where('submitted_at', '<', filters.submittedTo);
      return keysetPage<QueuedCase>(db, q, VERIFICATION_QUEUE_ORDER, after, limit);
    },
  };
}
