import { defineQuery } from '@temporalio/workflow';
import type { Attention } from './attention.defs';
import type { ClosureBlockers } from './shop-closure.defs';
import type { ProcessIdentity } from './process';

/** Closing third-party promotion (关闭第三方推广, docs/rules.md §2): messages, types and ids. */
export const PROMOTION_CLOSURE_PROCESS = 'promotion-closure';
export const PROMOTION_CLOSURE_WORKFLOW_TYPE = 'promotionClosure';
/** One per shop: the function stays off once closed, so a second request is refused. */
export const promotionClosureWorkflowId = (shopId: string): string => `promotion-closure:${shopId}`;

/** The restriction that switches the function off on the platform. */
export const THIRD_PARTY_PROMOTION_OFF = 'disable_third_party_promotion';

export type PromotionClosureStatus = 'switching_off' | 'waiting' | 'settling' | 'refunding' | 'closed';

export interface PromotionClosureInput {
  requestId: string;
  shopId: string;
  merchantId: string;
  requestedBy: string;
}

export interface PromotionClosureState {
  requestId: string;
  shopId: string;
  status: PromotionClosureStatus;
  requestedBy: string;
  /** What holds the refund back: the shop-exit conditions. */
  blockers: ClosureBlockers | null;
  /** Owed amounts taken from the promotion deposit before the refund. */
  deductedFen: number | null;
  refundedFen: number | null;
  /** What the promotion deposit could not cover: still owed. */
  stillOwedFen: number | null;
  attention: Attention | null;
}

export const promotionClosureStateQuery = defineQuery<PromotionClosureState>('state');

/** The process as the registry, the API seam and the replay test know it. */
export const promotionClosureProcess: ProcessIdentity = {
  workflowType: PROMOTION_CLOSURE_WORKFLOW_TYPE,
  processType: PROMOTION_CLOSURE_PROCESS,
  workflowId: promotionClosureWorkflowId,
  replayPrefix: 'promotion-closure-',
};
