import type { ScheduleSpec } from '@temporalio/client';

/**
 * A schedule that starts a process by itself. Overlapping runs are skipped; a run missed
 * while the cluster was down is caught up within `catchupWindow` (worker/schedules.ts).
 */
export interface ProcessSchedule {
  scheduleId: string;
  spec: ScheduleSpec;
  /** The id each scheduled run gets, so the Web UI finds it where a run started by hand would be. */
  workflowId: string;
  catchupWindow: '5 minutes' | '1 day' | '7 days';
  /** The input each scheduled run starts with (`{}` when absent). */
  input?: Record<string, unknown>;
  /** The one-line summary scheduled runs show in the Web UI (by default the process type, "scheduled"). */
  summary?: string;
}

/**
 * The schedule of a process that runs once a month under its month's id (`<process>:<YYYY-MM>`).
 * Temporal gives each scheduled run an id of its own (`workflowId` with the fire time
 * appended), so the run, started with `{ scheduled: true }`, does no work itself: it hands its
 * month to the id a run started by hand has (handOverScheduledRun, workflows/hand-over.ts) and
 * ends. A missed month is still worth running within the week.
 */
export function monthlyHandOverSchedule(s: { scheduleId: string; dayOfMonth: number; hour: number; workflowId: string; summary: string }): ProcessSchedule {
  return {
    scheduleId: s.scheduleId,
    spec: { calendars: [{ dayOfMonth: s.dayOfMonth, hour: s.hour, minute: 0 }], timezone: 'Asia/Shanghai' },
    workflowId: s.workflowId,
    catchupWindow: '7 days',
    input: { scheduled: true },
    summary: s.summary,
  };
}

/** What a scheduled run of a monthly process answers: which run does its month, and whether it started it. */
export interface HandOver {
  workflowId: string;
  /** `started`: this run started it; `already_running`: a run (started by hand, say) was going. */
  handedOver: 'started' | 'already_running';
}

/**
 * What names a process everywhere: in Temporal (workflow type and id), in the `ProcessType`
 * search attribute, in test/replay/histories/ and in the schedules that start it. Each
 * process declares one in its `<process>.defs.ts`; the registry (worker/registry.ts) adds
 * the activities it needs and the routes it exposes. Plain data: the workflow bundle may
 * import it.
 */
export interface ProcessIdentity {
  /** The workflow function's name, exported from workflows/index.ts. */
  readonly workflowType: string;
  /** The `ProcessType` search attribute every run carries. */
  readonly processType: string;
  /** The workflow id of the run for a business key (a merchant, a shop, a case, a period). */
  readonly workflowId: (key: string) => string;
  /** Recorded histories of this process are `test/replay/histories/<replayPrefix>*.json`. */
  readonly replayPrefix: string;
  readonly schedules?: readonly ProcessSchedule[];
}

/**
 * What a run is about, for the one-line summary the Web UI and `temporal workflow describe`
 * show. Business keys and figures only: never a name, an identity number or a contact
 * (summaries are stored in history and shown to anyone with the UI).
 */
export interface ProcessFacts {
  merchant?: string;
  shop?: string;
  /** A violation case's or a closure's id. */
  case?: string;
  /** 'YYYY-MM'. */
  period?: string;
  /** Integer fen (docs/rules.md conventions). */
  amountFen?: number;
  /** One more plain fact: a violation's level, a change's kind. */
  note?: string;
}

/** ¥1,234.56 from integer fen, without floats. */
function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * The static summary a run starts with (SDK `staticSummary`): its ProcessType, then what it is
 * about, e.g. `shop-closure · merchant m-1001 · shop s-1`. One line, whatever a fact holds.
 */
export function processSummary(processType: string, facts: ProcessFacts): string {
  const parts = [
    facts.merchant !== undefined ? `merchant ${facts.merchant}` : undefined,
    facts.shop !== undefined ? `shop ${facts.shop}` : undefined,
    facts.case !== undefined ? `case ${facts.case}` : undefined,
    facts.period !== undefined ? `period ${facts.period}` : undefined,
    facts.amountFen !== undefined ? yuan(facts.amountFen) : undefined,
    facts.note,
  ].filter((p): p is string => p !== undefined && p !== '');
  return [processType, ...parts].join(' · ').replace(/[\r\n\t]+/g, ' ');
}
