/**
 * After-sales tickets (docs/rules.md §5.4): seven-day no-reason returns and complaints,
 * assigned to agents round-robin by category, handled within 48 hours, escalated when late.
 * Pure rules: instants are passed in as epoch milliseconds, never read from a clock.
 */

export const TICKET_KINDS = ['no_reason_return', 'complaint'] as const;
export type TicketKind = (typeof TICKET_KINDS)[number];

export const TICKET_STATES = ['open', 'taken', 'resolved'] as const;
export type TicketState = (typeof TICKET_STATES)[number];

const HOUR_MS = 60 * 60 * 1000;

/** [source S5] A consumer may return goods without a reason within seven days of receiving them. */
export const NO_REASON_RETURN_WINDOW_MS = 7 * 24 * HOUR_MS;
/** [source S2, target "returns handled within 48 h"] The handling target of a new ticket. */
export const HANDLING_TARGET_MS = 48 * HOUR_MS;
/** [default] An escalated ticket gets another 24 hours before it escalates again. */
export const ESCALATION_STEP_MS = 24 * HOUR_MS;

/** Why a ticket cannot be opened for the order, or undefined when it can. */
export type TicketRefusal = 'order_not_received' | 'return_window_closed' | 'order_refunded';

export interface OrderFacts {
  status: 'paid' | 'receipt_confirmed' | 'refunded';
  /** Epoch ms of the receipt confirmation; null while the order is only paid. */
  receiptConfirmedAtMs: number | null;
}

/**
 * A no-reason return is accepted for a receipt-confirmed order up to and including the instant
 * seven days after the confirmation (a calendar week to the millisecond: the window counts
 * calendar time, not working days). A refunded order has nothing left to return. A complaint
 * needs only an order: a consumer may complain about a paid order not yet delivered.
 */
export function ticketRefusal(kind: TicketKind, order: OrderFacts, nowMs: number): TicketRefusal | undefined {
  if (kind === 'complaint') return undefined;
  if (order.status === 'refunded') return 'order_refunded';
  if (order.status !== 'receipt_confirmed' || order.receiptConfirmedAtMs === null) return 'order_not_received';
  if (nowMs > order.receiptConfirmedAtMs + NO_REASON_RETURN_WINDOW_MS) return 'return_window_closed';
  return undefined;
}

/** When a ticket opened at `createdAtMs` must be handled by. */
export const handlingDueAt = (createdAtMs: number): number => createdAtMs + HANDLING_TARGET_MS;

/**
 * Whether an unresolved ticket is overdue at `nowMs`: its due instant itself is still on time
 * (the target is "within 48 hours"), the next millisecond is late.
 */
export const isOverdue = (dueAtMs: number, nowMs: number): boolean => nowMs > dueAtMs;

/** The next due instant of a ticket escalated at `escalatedAtMs`. */
export const escalatedDueAt = (escalatedAtMs: number): number => escalatedAtMs + ESCALATION_STEP_MS;

/** Whether a ticket resolved at `resolvedAtMs` met the 48-hour handling target. */
export const resolvedWithinTarget = (createdAtMs: number, resolvedAtMs: number): boolean => resolvedAtMs <= handlingDueAt(createdAtMs);

/**
 * The next agent in a category's round: the first agent (by id) after the one who had the
 * last turn, wrapping to the first; the first agent when nobody has had a turn or the last
 * one no longer handles the category. `agents` are the active agents of the category; none
 * leaves the ticket unassigned.
 */
export function nextInRound(agents: readonly string[], lastTurn: string | null): string | null {
  const sorted = [...agents].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return null;
  if (lastTurn === null) return sorted[0]!;
  return sorted.find((id) => id > lastTurn) ?? sorted[0]!;
}

/** The platform key of the notice that a ticket reached an escalation level: once per ticket and level. */
export const escalationNoticeKey = (ticketId: string, level: number): string => `ticket-escalation:${ticketId}:${level}`;
