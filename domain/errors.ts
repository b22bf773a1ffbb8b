/**
 * The `type` of every ApplicationFailure merchant-ops raises, in one place, so
 * retry policies, workflows and the API's error mapper agree on the names.
 */
export const ErrorType = {
  /** The platform refused the request (4xx): retrying would not help. */
  PlatformRejected: 'PlatformRejected',
  /** The platform could not answer (5xx, timeout, network): retry. */
  PlatformUnavailable: 'PlatformUnavailable',
  /** The API started a workflow but its database rows never appeared. */
  SubmissionNotRecorded: 'SubmissionNotRecorded',
  /** A date fell in a year the working-day calendar has no data for. */
  CalendarYearNotLoaded: 'CalendarYearNotLoaded',
  /** A deduction or refund larger than the account's balance. */
  InsufficientBalance: 'InsufficientBalance',
  /** An idempotency key reused for a different movement. */
  LedgerKeyConflict: 'LedgerKeyConflict',
  /**
   * An order's category has no fee rate: that merchant cannot be settled until finance adds
   * one. Retryable, so a waiting process resumes once the rate exists.
   */
  MissingFeeRate: 'MissingFeeRate',
  /** A record the process depends on is missing. */
  RecordNotFound: 'RecordNotFound',
  /** The entity's identity number (resident ID, USCC) belongs to another merchant. */
  IdentityTaken: 'IdentityTaken',
  /** The platform's order feed sent an event we cannot store; the same page would fail again. */
  OrderFeedInvalid: 'OrderFeedInvalid',
  /** A top-up named a payment the platform (or finance) does not know. */
  PaymentNotFound: 'PaymentNotFound',
  /** The payment is not confirmed yet: nothing is credited; the same request may succeed later. */
  PaymentPending: 'PaymentPending',
  /** The payment failed: nothing was paid, nothing is credited. */
  PaymentFailed: 'PaymentFailed',
  /** The payment is for another shop, account or amount than the top-up says. */
  PaymentMismatch: 'PaymentMismatch',
  /**
   * The database refused a step's data for good (SQLSTATE class 22, or an integrity
   * violation that is no race): the same data would be refused on every retry.
   */
  DataRejected: 'DataRejected',
  /** A settlement period that is not a month merchant-ops can settle (domain/settlement.ts). */
  InvalidSettlementPeriod: 'InvalidSettlementPeriod',
  /** A closure was asked for a shop that is already closed. */
  ShopAlreadyClosed: 'ShopAlreadyClosed',
  /** A closure was asked for a shop that already has one in progress (one active per shop). */
  ClosureAlreadyActive: 'ClosureAlreadyActive',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * Why a shop closure was not started. Thrown by the one function that starts closures
 * (activities/shop-closure-start.ts) to both callers: the API answers 409, a ban's activity
 * treats it as "the shop goes either way". No HTTP here: layers below the API know none.
 */
export class ShopAlreadyClosed extends Error {
  readonly type = ErrorType.ShopAlreadyClosed;
  override readonly name = 'ShopAlreadyClosed';
}

export class ClosureAlreadyActive extends Error {
  readonly type = ErrorType.ClosureAlreadyActive;
  override readonly name = 'ClosureAlreadyActive';
  constructor(
    message: string,
    /** The active closure's id, when its row is what refused the new one. */
    readonly activeClosureId?: string,
  ) {
    super(message);
  }
}
