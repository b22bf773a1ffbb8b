import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LinkKind, LinkPartner, WindowDates } from '../domain/link-windows';
import type { Attention } from './attention.defs';
import type { ProcessIdentity } from './process';

/** A link window's process (docs/rules.md §5.2): messages, types and ids. */
export const LINK_WINDOW_PROCESS = 'link-window';
export const LINK_WINDOW_WORKFLOW_TYPE = 'linkWindow';
/** One per window: its versions are messages to the same run. */
export const linkWindowWorkflowId = (windowId: string): string => `link-window:${windowId}`;

export type LinkWindowStatus = 'scheduled' | 'open' | 'closing' | 'closed' | 'cancelled';

/** A version of the window's dates as the process plans with it. */
export interface WindowPlan extends WindowDates {
  version: number;
}

export interface LinkWindowInput {
  windowId: string;
  partner: LinkPartner;
  linkKind: LinkKind;
  plan: WindowPlan;
}

/**
 * Where a window's links stand, counted in SQL after each pass (never one entry per link). Read
 * from the rows, not added up from attempts: an attempt that failed after acting still counts.
 */
export interface WindowTotals {
  live: number;
  /** Links this window put live, each once (from its own recorded actions). */
  published: number;
  takenDown: number;
  publishFailed: number;
  takeDownFailed: number;
  /** Listed or restored links still to go live. */
  toPublish: number;
}

export interface LinkWindowProgress {
  /** Links that went live under the window (live now, or taken down since). */
  published: number;
  publishFailed: number;
  takenDown: number;
  takeDownFailed: number;
  /** Links still to publish while open; live links still to take down once closing. */
  remaining: number;
}

export interface LinkWindowState {
  windowId: string;
  status: LinkWindowStatus;
  plan: WindowPlan;
  progress: LinkWindowProgress;
  cancelledBy: string | null;
  /** Set while a step that failed for good (the database refused its data) waits for ops. */
  attention: Attention | null;
}

export interface CancelWindow {
  actor: string;
}

export const linkWindowStateQuery = defineQuery<LinkWindowState>('state');
/** A new version of the dates; the process re-plans its opening (before) or its end (while open). */
export const changeWindowUpdate = defineUpdate<LinkWindowState, [WindowPlan]>('changeWindow');
/** Before opening the process ends without publishing; while open the window closes now. */
export const cancelWindowUpdate = defineUpdate<LinkWindowState, [CancelWindow]>('cancelWindow');
/** A merchant listed links while the window is open: publish them (one signal may cover many). */
export const linksListedSignal = defineSignal('linksListed');

/** The process as the registry, the API seam and the replay test know it. */
export const linkWindowProcess: ProcessIdentity = {
  workflowType: LINK_WINDOW_WORKFLOW_TYPE,
  processType: LINK_WINDOW_PROCESS,
  workflowId: linkWindowWorkflowId,
  replayPrefix: 'link-window-',
};
