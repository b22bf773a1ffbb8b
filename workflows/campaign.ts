import { ActivityFailure, allHandlersFinished, ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CampaignActivities } from '../activities/campaigns';
import { pacingFor, type CampaignSummary } from '../domain/campaigns';
import { ErrorType } from '../domain/errors';
import { HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { businessStatus } from './business-status';
import {
  cancelCampaignUpdate,
  campaignStatusQuery,
  PAGES_PER_RUN,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignCommand,
  type CampaignInput,
  type CampaignStatus,
} from './campaign.defs';

// A page counts its calls in the database before each one, so a retried page (a dead worker,
// a database blip) sends only what its budget has left: retries keep to the pace too. A step
// that fails for good (our access refused, data the database refuses) pauses the campaign for ops.
const FOR_GOOD = [ErrorType.PlatformRefusalNeedsOps, ErrorType.DataRejected, ErrorType.RecordNotFound];
const pages = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: FOR_GOOD },
});
const records = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes: FOR_GOOD },
});

const ENDED = new Set(['completed', 'cancelled']);

/** The failure's own type when a page failed for good, else undefined (a plain failure is rethrown). */
function failedForGood(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type && FOR_GOOD.includes(cause.type as (typeof FOR_GOOD)[number]) ? cause : undefined;
}

/**
 * A campaign (docs/rules.md §5.5): the items wait in the database; the process asks for one
 * page of platform calls at a time and waits between pages so the platform never sees more
 * than the campaign's rate in any minute (domain/campaigns.ts pacingFor). Pause, resume and
 * cancel take effect between pages. It ends with a summary by result, kept on the campaign's
 * row too. History holds one activity per page, never one per item.
 */
export async function campaign(input: CampaignInput, carried?: CampaignStatus): Promise<CampaignSummary> {
  const { campaignId } = input;
  const state: CampaignStatus = carried ?? { campaignId, kind: input.kind, status: 'running', progress: null, changedBy: null, reason: null, pages: 0, cancelledBy: null };
  const status = businessStatus(state);
  const pacing = pacingFor(input.ratePerMinute);
  let cancelled = state.cancelledBy !== null;

  // Set once the last page is done: a pause taken while the summary is written would answer
  // `paused` for a campaign that is about to complete, and outlive the run.
  let ending = false;
  const refuseEnded = () => {
    if (ending) throw new Error(`campaign ${campaignId} has ended`);
    if (ENDED.has(state.status) || cancelled) throw new Error(`campaign ${campaignId} is ${cancelled ? 'cancelled' : state.status}`);
  };
  // The row's state writes go one after another, in the order the process took them: a resume
  // right behind a slow (retried) pause would otherwise land first and leave the row paused.
  let writing: Promise<unknown> | undefined;
  const change = async (next: 'running' | 'paused', { actor, reason }: CampaignCommand) => {
    state.changedBy = actor;
    state.reason = reason ?? null;
    const write = () => records.recordCampaignState({ campaignId, state: next, actor, reason });
    const written = writing ? writing.then(write, write) : write();
    writing = written;
    try {
      await status.setRecorded(next, () => written);
    } finally {
      if (writing === written) writing = undefined;
    }
  };
  setHandler(campaignStatusQuery, () => state);
  setHandler(
    pauseCampaignUpdate,
    async (command: CampaignCommand) => {
      await change('paused', command);
      return state;
    },
    {
      validator: (_command: CampaignCommand) => {
        refuseEnded();
        if (state.status === 'paused') throw new Error(`campaign ${campaignId} is already paused`);
      },
    },
  );
  setHandler(
    resumeCampaignUpdate,
    async (command: CampaignCommand) => {
      await change('running', command);
      return state;
    },
    {
      validator: (_command: CampaignCommand) => {
        refuseEnded();
        if (state.status !== 'paused') throw new Error(`campaign ${campaignId} is not paused`);
      },
    },
  );
  setHandler(
    cancelCampaignUpdate,
    ({ actor }: CampaignCommand) => {
      cancelled = true;
      state.cancelledBy = actor;
      return state;
    },
    { validator: (_command: CampaignCommand) => refuseEnded() },
  );

  let pagesThisRun = 0;
  for (;;) {
    if (cancelled) break;
    if (state.status === 'paused') {
      await condition(() => state.status !== 'paused' || cancelled);
      continue;
    }
    if (pagesThisRun >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      // A pause or resume still recording its state belongs to this run: let it finish first.
      await condition(allHandlersFinished);
      await continueAsNew<typeof campaign>(input, state);
    }
    state.pages += 1;
    pagesThisRun += 1;
    try {
      const page = await pages.runCampaignPage({ campaignId, page: state.pages, callsPerPage: pacing.callsPerPage });
      state.progress = page.progress;
      if (page.stoppedBy === 'finished') break;
    } catch (err) {
      const failure = failedForGood(err);
      if (!failure) throw err;
      // Ops look, fix (the platform token, the data) and resume; the page is asked again then.
      await change('paused', { actor: 'system', reason: failure.message });
    }
    // The pace: the next page starts a full gap after this one ended; only a cancel cuts it short.
    await condition(() => cancelled, pacing.gapMs);
  }

  ending = true;
  await condition(allHandlersFinished);
  const summary = await records.finishCampaign({ campaignId, cancelled });
  status.set(summary.outcome);
  status.final(summary.outcome);
  return summary;
}
