import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Attention } from './attention.defs';

/** Shop closure (退店, docs/rules.md §2): messages, types and ids. */
export const CLOSURE_PROCESS = 'shop-closure';
export const CLOSURE_WORKFLOW_TYPE = 'shopClosure';
/** One closure at a time per shop; a cancelled or finished one may be followed by another. */
export const closureWorkflowId = (shopId: string): string => `closure:${shopId}`;

export type ClosureStatus = 'waiting' | 'settling' | 'refunding' | 'closed' | 'cancelled';

export interface ClosureInput {
  closureId: string;
  shopId: string;
  merchantId: string;
  requestedBy: string;
}

export interface ClosureBlockers {
  openOrders: number;
  openViolations: number;
  /** When the last after-sales window ends, if one is still running. */
  afterSalesUntil: string | null;
}

export interface ClosureState {
  closureId: string;
  shopId: string;
  status: ClosureStatus;
  blockers: ClosureBlockers | null;
  owedFen: number | null;
  refundedFen: { deposit: number; promotionDeposit: number } | null;
  /** What neither deposit covered: still owed, in the ledger's receivable under the closure's key. */
  stillOwedFen?: number | null;
  /** Set while a step that failed for good waits for ops; absent in older runs. */
  attention?: Attention | null;
}

export const cancelClosureUpdate = defineUpdate<ClosureState, [{ actor: string }]>('cancel');
export const closureStateQuery = defineQuery<ClosureState>('state');
