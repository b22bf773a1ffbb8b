import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EntityType } from '../domain/verification';
import type { LadderStep, Restriction } from '../domain/deposit-policy';
import type { Attention } from './attention.defs';
import type { ProcessIdentity } from './process';

/** Shop deposit (保证金, docs/rules.md §2): one long-lived process per shop. */
export const DEPOSIT_PROCESS = 'deposit';
export const DEPOSIT_WORKFLOW_TYPE = 'depositAccount';
export const depositWorkflowId = (shopId: string): string => `deposit:${shopId}`;

export type DepositAccountKind = 'deposit' | 'promotion_deposit';
export type DepositStatus = 'open' | 'closing' | 'closed';

/** A shortfall episode: when it began, its ladder (computed from config), what ran. */
export interface ShortfallEpisode {
  id: string;
  startedAt: string;
  schedule: Array<{ step: LadderStep; at: string }>;
  stepsDone: LadderStep[];
}

/** What survives continue-as-new. */
export interface DepositCarriedState {
  balanceFen: number;
  promotionBalanceFen: number;
  requiredFen: number;
  episode: ShortfallEpisode | null;
  status: DepositStatus;
  /**
   * False until the balance first reaches the requirement: a new shop pays its initial
   * deposit before it sells, and the shortfall ladder guards a deposit once paid.
   */
  funded: boolean;
  promotionClosed: boolean;
  /** What the merchant owes beyond its deposits (fines above the balance); absent in older runs. */
  owedFen?: number;
}

export interface DepositAccountInput {
  shopId: string;
  merchantId: string;
  shopType: EntityType;
  carried?: DepositCarriedState;
  /** History length after which the process continues as new; a default suits production. */
  continueAsNewAfterEvents?: number;
}

/** A payment id of an offline transfer finance recorded: `offline:<offline top-up id>`. */
export const OFFLINE_PAYMENT_PREFIX = 'offline:';
export const offlinePaymentId = (offlineTopUpId: string): string => `${OFFLINE_PAYMENT_PREFIX}${offlineTopUpId}`;

/**
 * Credits a payment: the platform's (or an approved offline transfer) and only once it is
 * confirmed, for the confirmed amount, to the account it was paid to. The account and
 * amount given are checks only: a payment that disagrees is refused.
 */
export interface TopUpRequest {
  paymentId: string;
  account?: DepositAccountKind;
  amountFen?: number;
  actor: string;
  /** Top-ups accepted before payments were checked named a reference, not a payment. */
  paymentReference?: string;
}

export interface TopUpResult extends MovementResult {
  paymentId: string;
  account: DepositAccountKind;
  creditedFen: number;
}

export interface DeductionRequest {
  account: DepositAccountKind;
  amountFen: number;
  reason: string;
  /** The caller's reference for this deduction: a repeat with it is recorded once. */
  reference: string;
  actor: string;
  /**
   * Owed in full (a fine): the deposit pays what it holds and the rest is owed, where a
   * plain deduction above the balance is refused.
   */
  owing?: boolean;
}

/** Takes back an earlier deduction (a fine annulled on appeal): the same entries, reversed. */
export interface ReversalRequest {
  /** The reference the deduction was made with. */
  deductionReference: string;
  reason: string;
  actor: string;
}

export interface MovementResult {
  transactionId: number;
  replayed: boolean;
  balanceFen: number;
  promotionBalanceFen: number;
  requiredFen: number;
  /** What the merchant owes beyond its deposits; absent in answers from older runs. */
  owedFen?: number;
}

export type PromotionOutcome =
  | { done: true; refundedFen: number; deductedFen: number }
  | { done: false; reasons: string[] };

export interface RequirementChange {
  requiredFen: number;
  month: string;
}

export interface DepositState extends DepositCarriedState {
  shopId: string;
  merchantId: string;
  restrictions: Restriction[];
  /** Set while a step that failed for good waits for ops; absent in older runs. */
  attention?: Attention | null;
}

export const topUpUpdate = defineUpdate<TopUpResult, [TopUpRequest]>('topUp');
export const deductUpdate = defineUpdate<MovementResult, [DeductionRequest]>('deduct');
export const reverseDeductionUpdate = defineUpdate<MovementResult, [ReversalRequest]>('reverseDeduction');
export const closePromotionUpdate = defineUpdate<PromotionOutcome, [{ actor: string }]>('closePromotion');
export const withdrawPromotionExcessUpdate = defineUpdate<PromotionOutcome, [{ actor: string }]>('withdrawPromotionExcess');
export const requirementChangedSignal = defineSignal<[RequirementChange]>('requirementChanged');
/** The shop-closure process tells the deposit when it starts, is cancelled, and ends. */
export const closureSignal = defineSignal<[{ event: 'started' | 'cancelled' | 'closed'; balanceFen?: number; promotionBalanceFen?: number }]>('closure');
/** The promotion-closure process refunded the promotion deposit: the balances after it. */
export const promotionClosedSignal = defineSignal<[{ balanceFen: number; promotionBalanceFen: number; owedFen: number }]>('promotionClosed');
export const depositStateQuery = defineQuery<DepositState>('state');

/** The process as the registry, the API seam and the replay test know it. */
export const depositAccountProcess: ProcessIdentity = {
  workflowType: DEPOSIT_WORKFLOW_TYPE,
  processType: DEPOSIT_PROCESS,
  workflowId: depositWorkflowId,
  replayPrefix: 'deposit-account-',
};
