import type { ProcessIdentity } from './process';
/** The order import from the platform's order feed: names, types and ids. */
export const ORDER_IMPORT_PROCESS = 'order-import';
export const ORDER_IMPORT_WORKFLOW_TYPE = 'orderImport';
export const ORDER_IMPORT_SCHEDULE_ID = 'order-import';
/** The feed's name in `order_feed_cursors`. */
export const PLATFORM_ORDER_FEED = 'platform';
/** One import of a feed at a time; the feed's cursor is its business key. */
export const orderImportWorkflowId = (feed: string = PLATFORM_ORDER_FEED): string => `order-import:${feed}`;

export interface OrderImportInput {
  /** Events per platform call (the feed allows up to 1,000). */
  pageSize?: number;
}

export interface OrderImportResult {
  pages: number;
  /** Events read, including any an earlier or concurrent import had already applied. */
  events: number;
  /** Orders new to us. */
  inserted: number;
  /** Orders moved to a newer state (receipt confirmed, refunded). */
  updated: number;
  /** The feed's cursor when the import finished. */
  lastSeq: number;
}

/** The process as the registry, the API seam and the replay test know it. */
export const orderImportProcess: ProcessIdentity = {
  workflowType: ORDER_IMPORT_WORKFLOW_TYPE,
  processType: ORDER_IMPORT_PROCESS,
  workflowId: orderImportWorkflowId,
  replayPrefix: 'order-import-',
  schedules: [
    {
      scheduleId: ORDER_IMPORT_SCHEDULE_ID,
      // Every 5 minutes, so settlement reads orders a few minutes old at most.
      spec: { intervals: [{ every: '5 minutes' }] },
      workflowId: orderImportWorkflowId(),
      // Each run drains the whole feed: after an outage one run catches up, not one per missed slot.
      catchupWindow: '5 minutes',
    },
  ],
};
