import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Attention } from './attention.defs';
import type { ProcessIdentity } from './process';

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
  /** Set when a violation's penalty (a ban) started the closure: the case it came from. */
  penaltyCaseId?: string;
}

/** Who a penalty's closure is requested by (the violation process acting as admin). */
export const PENALTY_REQUESTER_PREFIX = 'admin:violation:';

/**
 * The violation case whose penalty started this closure, or null for a merchant's or ops'
 * request. Closures started by a ban before the case id was passed are known by their requester.
 */
export function penaltyCaseOf(input: Pick<ClosureInput, 'penaltyCaseId' | 'requestedBy'>): string | null {
  if (input.penaltyCaseId) return input.penaltyCaseId;
  return input.requestedBy.startsWith(PENALTY_REQUESTER_PREFIX) ? input.requestedBy.slice(PENALTY_REQUESTER_PREFIX.length) : null;
}

/**
 * A cancellation. `reversalOf` is given only by the violation process reversing the penalty
 * (an upheld appeal) that started the closure; the API never sets it.
 */
export interface CancelClosureRequest {
  actor: string;
  reversalOf?: string;
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
  /** `heldFen`: what stayed in each deposit because no payment stands behind it; absent in older runs. */
  refundedFen: { deposit: number; promotionDeposit: number; heldFen?: { deposit: number; promotionDeposit: number } } | null;
  /** What neither deposit covered: still owed, in the ledger's receivable under the closure's key. */
  stillOwedFen?: number | null;
  /** Set while a step that failed for good waits for ops; absent in older runs. */
  attention?: Attention | null;
}

export const cancelClosureUpdate = defineUpdate<ClosureState, [CancelClosureRequest]>('cancel');
export const closureStateQuery = defineQuery<ClosureState>('state');

/** The process as the registry, the API seam and the replay test know it. */
export const shopClosureProcess: ProcessIdentity = {
  workflowType: CLOSURE_WORKFLOW_TYPE,
  processType: CLOSURE_PROCESS,
  workflowId: closureWorkflowId,
  replayPrefix: 'shop-closure-',
};
