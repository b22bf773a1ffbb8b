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
  /** A process was asked to start under an id whose run is still going (and the start may not join it). */
  ProcessAlreadyRunning: 'ProcessAlreadyRunning',
  /** A process's rows could not be written, so it was not started. */
  ProcessNotRecorded: 'ProcessNotRecorded',
  /** The actor may not do this to the process (e.g. decide an appeal of a case they opened). */
  Forbidden: 'Forbidden',
  /**
   * A partner refused a token or refresh token for good (revoked, expired): the merchant must
   * authorise the store again; retrying would not help.
   */
  PartnerAuthorisationRevoked: 'PartnerAuthorisationRevoked',
  /** A binding's precondition or partner check failed; the refusal names it (domain/partner-binding.ts). */
  BindingRefused: 'BindingRefused',
  /** A violation case was not opened: its shop, or its reference, refused it (ViolationNotOpened). */
  ViolationNotOpened: 'ViolationNotOpened',
  /** A link window's dates break a rule (domain/link-windows.ts): the refusal names it. */
  LinkWindowRefused: 'LinkWindowRefused',
  /**
   * The platform refused a call ops must look at: a take-down of live links (they must come
   * down, so never abandoned) or the caller's access (401/403) for a whole pass.
   */
  PlatformRefusalNeedsOps: 'PlatformRefusalNeedsOps',
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

/**
 * Why a violation case was not opened (activities/violation-open.ts): the shop does not exist,
 * is another merchant's or is closed, or the reference opened another case with a different
 * request. The API answers 404 or 409; a check that finds violations by itself records it.
 */
export class ViolationNotOpened extends Error {
  readonly type = ErrorType.ViolationNotOpened;
  override readonly name = 'ViolationNotOpened';
  constructor(
    message: string,
    readonly reason: 'shop_not_found' | 'shop_of_another_merchant' | 'shop_closed' | 'reference_taken',
    /** The case the reference opened, when it is what refused. */
    readonly caseId?: string,
  ) {
    super(message);
  }
}

/**
 * A start refused because a run under the same workflow id is still going: the id is the
 * lock (one open review per merchant, one closure per shop). Thrown by startProcess
 * (activities/process-start.ts) after it has taken back the rows it wrote; the caller says
 * what is already open.
 */
export class ProcessAlreadyRunning extends Error {
  readonly type = ErrorType.ProcessAlreadyRunning;
  override readonly name = 'ProcessAlreadyRunning';
  constructor(readonly workflowId: string, options?: { cause?: unknown }) {
    super(`process ${workflowId} is already running`, options);
  }
}

/**
 * The rows a process starts from could not be written, so it was not started. The cause (the
 * database's error, with its SQL and values) is for the log, never for the caller.
 */
export class ProcessNotRecorded extends Error {
  readonly type = ErrorType.ProcessNotRecorded;
  override readonly name = 'ProcessNotRecorded';
  /** `what` names the rows as the caller does: "the case", "the closure". */
  constructor(readonly what: string, options?: { cause?: unknown }) {
    super(`${what} could not be recorded`, options);
  }
}
