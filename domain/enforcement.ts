/**
 * Enforcement actions (docs/rules.md §5.5): the rules the process, the API and the database
 * share. Pure: no Node built-ins, no I/O.
 */

import { samePerson } from './payments';

/**
 * `needs_attention`: a step the platform refused for good (a 400 to the restriction or a refund
 * page) waits for ops to retry it; nothing is paused or resumed meanwhile.
 */
export const ENFORCEMENT_STATES = ['awaiting_approval', 'refunding', 'paused', 'needs_attention', 'completed', 'rejected'] as const;
export type EnforcementState = (typeof ENFORCEMENT_STATES)[number];

export const ENFORCEMENT_REASONS = ['forged_brand_authorisation', 'counterfeit_goods', 'fraudulent_sales'] as const;
export type EnforcementReason = (typeof ENFORCEMENT_REASONS)[number];

/** What the platform said of one order: refunded, or refused with a reason code (final). */
export const REFUND_OUTCOMES = ['refunded', 'refused'] as const;
export type RefundOutcome = (typeof REFUND_OUTCOMES)[number];

/**
 * Orders per platform call: the platform's batch takes at most 1,000. 500 keeps a page's
 * call and its one recording statement well under a second, so a pause takes effect soon.
 * [default]
 */
export const DEFAULT_REFUND_PAGE_SIZE = 500;
export const MAX_REFUND_PAGE_SIZE = 1_000;

/** The platform refunds an order once under this key, whichever action or attempt asks. */
export const orderRefundKey = (orderId: string): string => `order-refund:${orderId}`;

/** The restriction is applied once per action, however often its step runs. */
export const enforcementRestrictionKey = (actionId: string): string => `enforcement:${actionId}:restrict_withdrawals`;

/**
 * Maker ≠ checker: the one who opened an action may neither approve nor reject it, whatever
 * their role and however their sub is spelt (samePerson: case, blanks, full-width letters).
 * Answers why not, or undefined when the checker may decide.
 */
export function checkerRefusal(openedBy: string, checker: string): string | undefined {
  if (samePerson(openedBy, checker)) return `${checker} opened this action: another person must approve or reject it (maker ≠ checker)`;
  return undefined;
}

/** Which states allow which step: ops answer a refusal with the state the action is in. */
export function transitionRefusal(state: EnforcementState, step: 'approve' | 'reject' | 'pause' | 'resume'): string | undefined {
  const allowed: Record<typeof step, EnforcementState[]> = {
    approve: ['awaiting_approval'],
    reject: ['awaiting_approval'],
    pause: ['refunding'],
    resume: ['paused'],
  };
  if (allowed[step].includes(state)) return undefined;
  return `the action is ${state}: it cannot be ${step === 'approve' ? 'approved' : step === 'reject' ? 'rejected' : step === 'pause' ? 'paused' : 'resumed'} now`;
}

/** What waits for ops, as the row, the API and the query show it: the step and the platform's words. */
export interface EnforcementAttention {
  step: string;
  error: string;
  since: string;
}

/** The Web UI's line while a step waits for ops: the figures, then what failed. */
export function attentionLine(p: RefundProgress, attention: EnforcementAttention): string {
  return `${progressLine('needs_attention', p)}; waiting for ops to retry ${attention.step}: ${attention.error}`;
}

export interface RefundCounts {
  /** Orders of the shop the action set out to refund: refunded, refused or not yet sent. */
  total: number;
  refunded: number;
  refused: number;
}

export interface RefundProgress {
  done: number;
  failed: number;
  remaining: number;
}

/**
 * Done / failed / remaining as ops read them. Orders the shop sells after the count are
 * refunded too: `remaining` never goes below 0, and `total` grows with them on the next count.
 */
export function refundProgress({ total, refunded, refused }: RefundCounts): RefundProgress {
  return { done: refunded, failed: refused, remaining: Math.max(0, total - refunded - refused) };
}

/** One line for the Web UI's current details: figures only, never a consumer. */
export function progressLine(state: EnforcementState, p: RefundProgress): string {
  return `${state}: ${p.done} refunded, ${p.failed} refused, ${p.remaining} remaining`;
}
