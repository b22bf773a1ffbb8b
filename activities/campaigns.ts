import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { createCampaignRepository, type CampaignItem, type Settlement } from '../db/repositories/campaigns';
import { createShopRepository } from '../db/repositories/shops';
import { afterTransientFailure, callFailureOf, campaignSummary, CLOSE_SHOP_RESTRICTIONS, type CampaignKind, type CampaignSummary } from '../domain/campaigns';
import { ErrorType } from '../domain/errors';
import type { PlatformClient, PlatformRejectionDetails, PlatformUnavailableDetails } from '../platform/types';
import type { CampaignPageInput, CampaignPageOutcome, CampaignStateChange } from '../workflows/campaign.defs';
import { keepHeartbeating } from './heartbeat';

export interface CampaignActivityDeps {
  db: Db;
  platform: PlatformClient;
}

/** The template a streamer's warning goes out under; the platform words it, we send the campaign and its reason. */
export const STREAMER_WARNING_TEMPLATE = 'campaign_streamer_warning';

// The platform's words, kept on the item for ops: never a NUL (PostgreSQL refuses it, and the
// settle would fail on every retry), and short.
const MAX_REASON_LENGTH = 500;
const storable = (message: string) => message.replace(/\u0000/g, '').slice(0, MAX_REASON_LENGTH);

/** The platform's status of a failed call: a refusal carries it, an outage caused by a status (5xx, 408, 429) too; anything else had none. */
function statusOf(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  if (err.type === ErrorType.PlatformRejected) return (err.details?.[0] as PlatformRejectionDetails | undefined)?.status ?? 400;
  if (err.type === ErrorType.PlatformUnavailable) return (err.details?.[0] as PlatformUnavailableDetails | undefined)?.status;
  return undefined;
}

export function createCampaignActivities({ db, platform }: CampaignActivityDeps) {
  const campaigns = createCampaignRepository(db);
  const shops = createShopRepository(db);

  /** The one platform call an item stands for, keyed by the campaign and the item's place in the list. */
  async function act(campaignId: string, kind: CampaignKind, reason: string, item: CampaignItem): Promise<Record<string, unknown>> {
    const key = `campaign:${campaignId}:${item.position}`;
    const why = `campaign ${campaignId}: ${reason}`;
    if (kind === 'close_shops') {
      const shopId = item.shopId!;
      const answer = await platform.setRestrictions(shopId, { action: 'apply', restrictions: [...CLOSE_SHOP_RESTRICTIONS], reason: why }, key);
      // Held under the campaign's own source where we know the shop, so no other process lifting its own reopens it.
      if (await shops.find(shopId)) await shops.applyRestrictions(shopId, [...CLOSE_SHOP_RESTRICTIONS], `campaign:${campaignId}`, new Date());
      return { inForce: answer.inForce };
    }
    if (kind === 'delist_products') {
      const answer = await platform.delistProducts(item.shopId!, { productIds: item.productIds!, reason: why }, key);
      const delisted = new Set(answer.delisted);
      return { delisted: item.productIds!.filter((id) => delisted.has(id)).length };
    }
    const answer = await platform.notify({ recipient: 'streamer', streamerId: item.streamerId!, merchantId: item.merchantId!, template: STREAMER_WARNING_TEMPLATE, data: { campaignId, reason } }, key);
    return { notificationId: answer.notificationId };
  }

  return {
    /**
     * One page of a campaign: up to `callsPerPage` platform calls over the next pending items,
     * each counted in the database before it is made, so a retried page (a dead worker) sends
     * only what its budget has left. A refused target is settled `refused` with the platform's
     * words; a call that may pass (5xx, timeout) ends the page, the item pending for the next
     * one after the process's pause, until its tries are used up (a 429 ends the page too but
     * uses no try: it is the platform's pace, not the item's fault); a refusal of our access
     * (401/403) leaves the item pending and stops the campaign for ops (PlatformRefusalNeedsOps).
     */
    async runCampaignPage(input: CampaignPageInput): Promise<CampaignPageOutcome> {
      const campaign = await campaigns.find(input.campaignId);
      if (!campaign) throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} does not exist`, ErrorType.RecordNotFound);
      const heartbeat = keepHeartbeating<{ position: number }>();
      let calls = await campaigns.callsOfPage(campaign.id, input.page);
      let stoppedBy: CampaignPageOutcome['stoppedBy'] = 'budget';
      try {
        pages: while (calls < input.callsPerPage) {
          const items = await campaigns.pending(campaign.id, input.callsPerPage - calls);
          if (items.length === 0) break;
          for (const item of items) {
            const counted = await campaigns.countCall(campaign.id, input.page, input.callsPerPage);
            if (counted === null) break pages;
            calls = counted;
            let settlement: Settlement | undefined;
            try {
              settlement = { state: 'done', result: await act(campaign.id, campaign.kind, campaign.reason, item) };
            } catch (err) {
              const failure = callFailureOf(statusOf(err));
              const message = storable(err instanceof Error ? err.message : String(err));
              if (failure === 'access_refused') {
                throw ApplicationFailure.nonRetryable(`the platform refused our access at item ${item.position}: ${message}`, ErrorType.PlatformRefusalNeedsOps);
              }
              if (failure === 'refused') settlement = { state: 'refused', reason: message };
              else {
                // Throttled: the page ends and the item waits for the next one, its tries untouched.
                const tries = failure === 'transient' ? await campaigns.countTry(campaign.id, item.position) : 0;
                if (afterTransientFailure(tries) === 'failed') settlement = { state: 'failed', reason: `${tries} tries: ${message}` };
                else stoppedBy = 'transient';
              }
            }
            if (settlement) await campaigns.settle(campaign.id, item.position, settlement);
            heartbeat.progress({ position: item.position });
            if (stoppedBy === 'transient') break pages;
            if (calls >= input.callsPerPage) break pages;
          }
        }
      } finally {
        heartbeat.stop();
      }
      const counts = await campaigns.counts(campaign.id);
      if (counts.pending === 0) stoppedBy = 'finished';
      return { calls, stoppedBy, progress: counts };
    },

    /** Pause or resume as the process took it (the state the API and the list show). */
    async recordCampaignState(change: CampaignStateChange): Promise<void> {
      await campaigns.setState(change.campaignId, change.state, change.actor, change.reason ?? null);
    },

    /** The campaign ended: its summary by result, kept on its row once, and answered. */
    async finishCampaign(input: { campaignId: string; cancelled: boolean }): Promise<CampaignSummary> {
      const campaign = await campaigns.find(input.campaignId);
      if (!campaign) throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} does not exist`, ErrorType.RecordNotFound);
      if (campaign.summary) return campaign.summary;
      const { pending: _pending, ...counts } = await campaigns.counts(campaign.id);
      const summary = campaignSummary(campaign.kind, counts, input.cancelled);
      await campaigns.finish(campaign.id, summary.outcome, summary);
      return summary;
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
