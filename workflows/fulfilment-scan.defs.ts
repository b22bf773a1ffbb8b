import type { ProcessIdentity } from './process';
/** The fulfilment scan (docs/rules.md §5.4): names, types and ids. */
export const FULFILMENT_SCAN_PROCESS = 'fulfilment-scan';
export const FULFILMENT_SCAN_WORKFLOW_TYPE = 'fulfilmentScan';
export const FULFILMENT_SCAN_SCHEDULE_ID = 'fulfilment-scan';
/** One scan at a time over all orders: the scan has one business key, the order feed it reads. */
export const fulfilmentScanWorkflowId = (key: string = 'orders'): string => `fulfilment-scan:${key}`;

export interface FulfilmentScanInput {
  /** The instant the scan judges orders at (ISO-8601); absent, the workflow's own start time. */
  asOf?: string;
  /** Orders per statement. */
  pageSize?: number;
}

/** What each activity of the scan gets: the same instant for every step, so one run judges one moment. */
export interface ScanStep {
  asOf: string;
  pageSize?: number;
}

export interface DueTotals {
  /** Pages of deadlines the watermark passed. */
  pages: number;
  /** Orders whose deadline passed in this run (refunded-before-deadline ones are not due). */
  due: number;
  late: number;
  /** Late records of orders that have shipped since they were recorded unshipped. */
  shippedSinceLate: number;
  /**
   * Late records removed because the feed, behind when they were judged, has since shown the
   * order shipped (or refunded unshipped) by its deadline; the day's counts are corrected.
   */
  correctedLate: number;
}

export interface WarningTotals {
  recorded: number;
  sent: number;
  /** Refused by the platform for good: kept in shipping_warnings with the reason, not sent again. */
  refused: number;
}

export interface ExceptionTotals {
  noTracking: number;
  reported: number;
}

export interface CompensationTotals {
  paid: number;
  paidFen: number;
  refused: number;
}

export interface FulfilmentScanResult {
  asOf: string;
  due: DueTotals;
  warnings: WarningTotals;
  exceptions: ExceptionTotals;
  compensations: CompensationTotals;
}

/** The process as the registry, the API seam and the replay test know it. */
export const fulfilmentScanProcess: ProcessIdentity = {
  workflowType: FULFILMENT_SCAN_WORKFLOW_TYPE,
  processType: FULFILMENT_SCAN_PROCESS,
  workflowId: fulfilmentScanWorkflowId,
  replayPrefix: 'fulfilment-scan-',
  schedules: [
    {
      scheduleId: FULFILMENT_SCAN_SCHEDULE_ID,
      // Every 10 minutes: a warning goes out at most 10 minutes after its instant (36 h after
      // payment) and a late shipment is counted within the feed's grace plus 10 minutes.
      spec: { intervals: [{ every: '10 minutes' }] },
      workflowId: fulfilmentScanWorkflowId(),
      // Each run catches up on everything due: after an outage one run is enough.
      catchupWindow: '5 minutes',
    },
  ],
};
