import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CampaignCounts, CampaignKind, CampaignState } from '../domain/campaigns';
import type { ProcessIdentity } from './process';

/** A campaign (docs/rules.md §5.5): one bulk action over a list, paced, pausable, with a result per item. */
export const CAMPAIGN_PROCESS = 'campaign';
export const CAMPAIGN_WORKFLOW_TYPE = 'campaign';
/** One run per campaign: pause, resume and cancel are messages to it. */
export const campaignWorkflowId = (campaignId: string): string => `campaign:${campaignId}`;

/** Pages a run makes before it continues as new, so its history stays small whatever the list's length. */
export const PAGES_PER_RUN = 200;

export interface CampaignInput {
  campaignId: string;
  kind: CampaignKind;
  ratePerMinute: number;
}

export interface CampaignProgress extends CampaignCounts {
  pending: number;
}

export interface CampaignPageInput {
  campaignId: string;
  /** The page's number over the whole campaign (carried across continue-as-new): its calls are counted under it. */
  page: number;
  callsPerPage: number;
}

export interface CampaignPageOutcome {
  /** Calls the page made (those of a dead attempt of it included). */
  calls: number;
  /** Why the page ended: its budget spent, a call that may pass next time, or no item left. */
  stoppedBy: 'budget' | 'transient' | 'finished';
  progress: CampaignProgress;
}

export interface CampaignStateChange {
  campaignId: string;
  state: 'running' | 'paused';
  actor: string;
  reason?: string;
}

export interface CampaignStatus {
  campaignId: string;
  kind: CampaignKind;
  status: CampaignState;
  progress: CampaignProgress | null;
  /** Who paused (or resumed) it last, and why; `system` when the platform refused our access. */
  changedBy: string | null;
  reason: string | null;
  /** Pages made so far over the whole campaign. */
  pages: number;
  cancelledBy: string | null;
}

export interface CampaignCommand {
  actor: string;
  reason?: string;
}

export const campaignStatusQuery = defineQuery<CampaignStatus>('state');
/** Stops before the next page; the page under way finishes. */
export const pauseCampaignUpdate = defineUpdate<CampaignStatus, [CampaignCommand]>('pauseCampaign');
export const resumeCampaignUpdate = defineUpdate<CampaignStatus, [CampaignCommand]>('resumeCampaign');
/** Ends the campaign before the next page; items not tried stay pending and count as not tried. */
export const cancelCampaignUpdate = defineUpdate<CampaignStatus, [CampaignCommand]>('cancelCampaign');

/** The process as the registry, the API seam and the replay test know it. */
export const campaignProcess: ProcessIdentity = {
  workflowType: CAMPAIGN_WORKFLOW_TYPE,
  processType: CAMPAIGN_PROCESS,
  workflowId: campaignWorkflowId,
  replayPrefix: 'campaign-',
};
