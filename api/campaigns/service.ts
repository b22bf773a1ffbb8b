import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { CAMPAIGN_LIST_ORDER, createCampaignRepository, type Campaign, type CampaignItem, type CampaignTarget } from '../../db/repositories/campaigns';
import type { ItemState } from '../../domain/campaigns';
import { cancelCampaignUpdate, campaignProcess, campaignStatusQuery, campaignWorkflowId, pauseCampaignUpdate, resumeCampaignUpdate, type CampaignInput } from '../../workflows/campaign.defs';
import type { Principal } from '../auth';
import { badRequest, notFound } from '../errors';
import { decodeCursor, encodeCursor, pageThrough } from '../pagination';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate, startProcess } from '../process-seam';
import type { CampaignCommandBody, CampaignListQuery, CreateCampaignBody, ItemListQuery } from './schemas';

export interface CampaignServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  updateWaitMs?: number;
}

const newCampaignId = () => `cmp_${randomBytes(12).toString('hex')}`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
// An item's place in the list, as the items' cursor holds it (checked before it reaches SQL).
const ITEM_ORDER = [{ sql: 'position', type: 'text', direction: 'asc' }] as const;

const campaignView = (c: Campaign) => ({
  campaignId: c.id,
  kind: c.kind,
  reason: c.reason,
  state: c.state,
  ratePerMinute: c.ratePerMinute,
  createdBy: c.createdBy,
  createdAt: new Date(c.createdAt).toISOString(),
  finishedAt: iso(c.finishedAt),
  workflowId: c.workflowId,
  progress: { total: c.total, done: c.done, refused: c.refused, failed: c.failed, pending: c.total - c.done - c.refused - c.failed },
  stateChangedBy: c.stateChangedBy,
  stateReason: c.stateReason,
  summary: c.summary,
});

const itemView = (i: CampaignItem) => ({ ...i, finishedAt: iso(i.finishedAt) });

/**
 * Every target at most once: a repeat would close, delist or warn twice under two keys. A
 * target is a shop (close), each product of a shop, whichever item lists it (delist), or a
 * streamer about a merchant (warn). Kept as maps of maps of the first place, never as joined
 * strings: ids holding a separator (`a:b` + `c`, `a` + `b:c`) stay apart, and the largest body
 * (about 1.6 million product ids) is checked in about 0.1 s and 50 MB, not 3 s and 300 MB.
 */
function refuseRepeats(targets: CampaignTarget[]): void {
  const seen = new Map<string, Map<string, number>>();
  const issues: Array<{ path: string; message: string }> = [];
  // A place is `item × 1000 + product` (at most 200 products an item); its path is made only for a repeat.
  const pathOf = (place: number, products: boolean) => (products ? `items.${Math.floor(place / 1000)}.productIds.${place % 1000}` : `items.${place}`);
  const within = (outer: string) => seen.get(outer) ?? seen.set(outer, new Map()).get(outer)!;
  const once = (places: Map<string, number>, inner: string, place: number, products: boolean) => {
    const first = places.get(inner);
    if (first === undefined) places.set(inner, place);
    else if (issues.length < 20) issues.push({ path: pathOf(place, products), message: `repeats ${pathOf(first, products)}` });
  };
  targets.forEach((t, i) => {
    if (t.streamerId) once(within(`streamer ${t.streamerId}`), t.merchantId!, i, false);
    else if (t.productIds) {
      const products = within(`products of ${t.shopId}`);
      t.productIds.forEach((productId, j) => once(products, productId, i * 1000 + j, true));
    } else once(within('shops'), t.shopId!, i, false);
  });
  if (issues.length > 0) throw badRequest('campaign is invalid', issues);
}

/** Campaigns between HTTP and their processes; reads come from the rows the processes keep. */
export function createCampaignService({ db, temporal, taskQueue, updateWaitMs = DEFAULT_UPDATE_WAIT_MS }: CampaignServiceDeps) {
  const campaigns = createCampaignRepository(db);

  async function load(campaignId: string): Promise<Campaign> {
    const found = await campaigns.find(campaignId);
    if (!found) throw notFound(`campaign ${campaignId} does not exist`);
    return found;
  }

  async function command(campaignId: string, which: 'pause' | 'resume' | 'cancel', body: CampaignCommandBody, principal: Principal) {
    const current = await load(campaignId);
    const update = which === 'pause' ? pauseCampaignUpdate : which === 'resume' ? resumeCampaignUpdate : cancelCampaignUpdate;
    await runUpdate(temporal.workflow.getHandle(current.workflowId), {
      update,
      args: [{ actor: principal.sub, ...(body.reason ? { reason: body.reason } : {}) }],
      stateQuery: campaignStatusQuery,
      waitMs: updateWaitMs,
      what: `the ${which} of campaign ${campaignId}`,
      whenEnded: `campaign ${campaignId} has ended (${current.state})`,
      refusalExtra: { campaignState: current.state },
    });
    return campaignView(await load(campaignId));
  }

  return {
    /** Records the campaign and every item in one transaction, then starts its process. */
    async create(body: CreateCampaignBody, principal: Principal) {
      const targets: CampaignTarget[] = body.items;
      refuseRepeats(targets);
      const id = newCampaignId();
      const workflowId = campaignWorkflowId(id);
      const input: CampaignInput = { campaignId: id, kind: body.kind, ratePerMinute: body.ratePerMinute };
      await startProcess(temporal, {
        process: campaignProcess,
        workflowId,
        taskQueue,
        input,
        conflictPolicy: 'FAIL',
        reusePolicy: 'REJECT_DUPLICATE',
        searchAttributes: { status: 'running' },
        about: { case: id, note: `${body.kind}, ${targets.length} items at ${body.ratePerMinute}/min` },
        record: {
          db,
          what: 'the campaign',
          write: (trx) => createCampaignRepository(trx).insert({ id, kind: body.kind, reason: body.reason, createdBy: principal.sub, workflowId, ratePerMinute: body.ratePerMinute, targets }, trx),
          undo: (undoDb) => createCampaignRepository(undoDb).remove(id),
        },
      });
      return campaignView(await load(id));
    },

    view: async (campaignId: string) => campaignView(await load(campaignId)),

    async list({ limit, cursor }: CampaignListQuery) {
      return pageThrough({ list: 'campaigns', filters: {} }, CAMPAIGN_LIST_ORDER, { cursor, limit }, (after, n) => campaigns.page(after, n), campaignView);
    },

    /** One page of a campaign's items in list order, of one state or all. */
    async items(campaignId: string, { state, limit, cursor }: ItemListQuery) {
      await load(campaignId);
      const scope = { list: `campaign-items:${campaignId}`, filters: { state } };
      const after = decodeCursor(cursor, scope, ITEM_ORDER);
      if (after && !/^[1-9][0-9]{0,5}$/.test(after[0]!)) throw badRequest('cursor is invalid', [{ path: 'cursor', message: 'not a cursor this API made' }]);
      const page = await campaigns.items(campaignId, { state: state as ItemState | undefined, afterPosition: after ? Number(after[0]) : undefined }, limit);
      const last = page.rows.at(-1);
      return { items: page.rows.map(itemView), nextCursor: page.hasMore && last ? encodeCursor(scope, [String(last.position)]) : null };
    },

    pause: (campaignId: string, body: CampaignCommandBody, principal: Principal) => command(campaignId, 'pause', body, principal),
    resume: (campaignId: string, body: CampaignCommandBody, principal: Principal) => command(campaignId, 'resume', body, principal),
    cancel: (campaignId: string, body: CampaignCommandBody, principal: Principal) => command(campaignId, 'cancel', body, principal),
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
