import type { Knex } from 'knex';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';
import type { CampaignCounts, CampaignKind, CampaignState, CampaignSummary, ItemState } from '../../domain/campaigns';

/** One target of a campaign as the list names it. */
export interface CampaignTarget {
  shopId?: string;
  productIds?: string[];
  streamerId?: string;
  /** With a streamer: the merchant whose goods the warning is about. */
  merchantId?: string;
}

export interface CampaignItem extends CampaignTarget {
  position: number;
  state: ItemState;
  result: Record<string, unknown> | null;
  reason: string | null;
  attempts: number;
  finishedAt: Date | null;
}

export interface Campaign extends CampaignCounts {
  id: string;
  kind: CampaignKind;
  reason: string;
  createdBy: string;
  workflowId: string;
  state: CampaignState;
  ratePerMinute: number;
  stateChangedBy: string | null;
  stateReason: string | null;
  summary: CampaignSummary | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface NewCampaign {
  id: string;
  kind: CampaignKind;
  reason: string;
  createdBy: string;
  workflowId: string;
  ratePerMinute: number;
  targets: CampaignTarget[];
}

/** Rows per INSERT: 50,000 items go in a few statements, well under PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK = 5_000;

type Row = Record<string, unknown>;

/** Campaigns, the newest first (campaigns_list_idx). */
export const CAMPAIGN_LIST_ORDER: readonly SortKey[] = [
  { sql: 'created_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'id', type: 'text', direction: 'desc' },
];

const campaignOf = (r: Row): Campaign => ({
  id: r.id as string,
  kind: r.kind as CampaignKind,
  reason: r.reason as string,
  createdBy: r.created_by as string,
  workflowId: r.workflow_id as string,
  state: r.state as CampaignState,
  ratePerMinute: Number(r.rate_per_minute),
  total: Number(r.total),
  done: Number(r.done),
  refused: Number(r.refused),
  failed: Number(r.failed),
  stateChangedBy: (r.state_changed_by as string | null) ?? null,
  stateReason: (r.state_reason as string | null) ?? null,
  summary: (r.summary as CampaignSummary | null) ?? null,
  createdAt: r.created_at as Date,
  updatedAt: r.updated_at as Date,
  finishedAt: (r.finished_at as Date | null) ?? null,
});

const itemOf = (r: Row): CampaignItem => ({
  position: Number(r.position),
  ...(r.shop_id ? { shopId: r.shop_id as string } : {}),
  ...(r.product_ids ? { productIds: r.product_ids as string[] } : {}),
  ...(r.streamer_id ? { streamerId: r.streamer_id as string, merchantId: r.merchant_id as string } : {}),
  state: r.state as ItemState,
  result: (r.result as Record<string, unknown> | null) ?? null,
  reason: (r.reason as string | null) ?? null,
  attempts: Number(r.attempts),
  finishedAt: (r.finished_at as Date | null) ?? null,
});

/** An item's result, settled once: a second settle (a retried attempt) changes nothing and counts nothing. */
export type Settlement = { state: 'done'; result: Record<string, unknown> } | { state: 'refused' | 'failed'; reason: string };

export function createCampaignRepository(db: Knex) {
  return {
    /** The campaign and every item, in one transaction (the caller's). */
    async insert(c: NewCampaign, trx: Knex.Transaction): Promise<void> {
      await trx('campaigns').insert({
        id: c.id,
        kind: c.kind,
        reason: c.reason,
        created_by: c.createdBy,
        workflow_id: c.workflowId,
        rate_per_minute: c.ratePerMinute,
        total: c.targets.length,
      });
      for (let i = 0; i < c.targets.length; i += INSERT_CHUNK) {
        const rows = c.targets.slice(i, i + INSERT_CHUNK).map((t, j) => ({
          campaign_id: c.id,
          position: i + j + 1,
          shop_id: t.shopId ?? null,
          product_ids: t.productIds ?? null,
          streamer_id: t.streamerId ?? null,
          merchant_id: t.merchantId ?? null,
        }));
        await trx('campaign_items').insert(rows);
      }
    },

    /** Takes back a campaign whose process did not start (nothing was called for it). */
    async remove(id: string): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('campaign_items').where({ campaign_id: id }).delete();
        await trx('campaigns').where({ id }).delete();
      });
    },

    async find(id: string): Promise<Campaign | undefined> {
      const row = (await db('campaigns').where({ id }).first()) as Row | undefined;
      return row && campaignOf(row);
    },

    async setState(id: string, state: 'running' | 'paused', by: string, reason: string | null): Promise<void> {
      await db('campaigns').where({ id }).whereIn('state', ['running', 'paused']).update({ state, state_changed_by: by, state_reason: reason, updated_at: db.fn.now() });
    },

    /** The next pending items in list order (the state index serves it: settled items leave the range). */
    async pending(id: string, limit: number): Promise<CampaignItem[]> {
      const rows = (await db('campaign_items').where({ campaign_id: id, state: 'pending' }).orderBy('position').limit(limit)) as Row[];
      return rows.map(itemOf);
    },

    /**
     * Counts one call of page `page` before it is made; answers how many calls the page has
     * made with this one, or null when the call must not be made: the page's budget is spent,
     * or a later page has begun (this attempt is a zombie of a page over). One statement, so
     * two attempts of a page at once (a heartbeat timed out, the old attempt still running)
     * share one budget; written before the call so a retried page knows what a dead one sent.
     */
    async countCall(id: string, page: number, budget: number): Promise<number | null> {
      const [row] = (await db('campaigns')
        .where({ id })
        .where((q) => q.where('page', '<', page).orWhere((same) => same.where('page', page).where('page_calls', '<', budget)))
        .update({ page_calls: db.raw('CASE WHEN page = ? THEN page_calls + 1 ELSE 1 END', [page]), page, updated_at: db.fn.now() })
        .returning('page_calls')) as Array<{ page_calls: number }>;
      return row ? Number(row.page_calls) : null;
    },

    /** One more try of a pending item that the platform answered with a failure that may pass; answers its tries so far. */
    async countTry(id: string, position: number): Promise<number> {
      const [row] = (await db('campaign_items').where({ campaign_id: id, position, state: 'pending' }).increment('attempts', 1).returning('attempts')) as Array<{ attempts: number }>;
      return row ? Number(row.attempts) : 0;
    },

    /** Calls page `page` has made so far (0 for a page not begun). */
    async callsOfPage(id: string, page: number): Promise<number> {
      const row = (await db('campaigns').where({ id }).first('page', 'page_calls')) as { page: string | number; page_calls: number } | undefined;
      return row && Number(row.page) === page ? Number(row.page_calls) : 0;
    },

    /** Settles a pending item and counts it on the campaign, together. */
    async settle(id: string, position: number, s: Settlement): Promise<boolean> {
      return db.transaction(async (trx) => {
        const changed = await trx('campaign_items')
          .where({ campaign_id: id, position, state: 'pending' })
          .update({
            state: s.state,
            result: s.state === 'done' ? JSON.stringify(s.result) : null,
            reason: s.state === 'done' ? null : s.reason,
            // The answer that settles it is a try too (a failed one was counted by countTry already).
            attempts: s.state === 'failed' ? trx.raw('attempts') : trx.raw('attempts + 1'),
            finished_at: trx.fn.now(),
          });
        if (changed === 0) return false;
        await trx('campaigns').where({ id }).increment(s.state, 1).update({ updated_at: trx.fn.now() });
        return true;
      });
    },

    async counts(id: string): Promise<CampaignCounts & { pending: number }> {
      const row = (await db('campaigns').where({ id }).first('total', 'done', 'refused', 'failed')) as Row | undefined;
      if (!row) throw new Error(`campaign ${id} does not exist`);
      const counts = { total: Number(row.total), done: Number(row.done), refused: Number(row.refused), failed: Number(row.failed) };
      return { ...counts, pending: counts.total - counts.done - counts.refused - counts.failed };
    },

    /** The campaign ended: its state and summary, once (a retry leaves the first). */
    async finish(id: string, state: 'completed' | 'cancelled', summary: CampaignSummary): Promise<void> {
      await db('campaigns').where({ id }).whereIn('state', ['running', 'paused']).update({ state, summary: JSON.stringify(summary), finished_at: db.fn.now(), updated_at: db.fn.now() });
    },

    async page(after: Position | undefined, limit: number): Promise<KeysetPage<Campaign>> {
      const page = await keysetPage<Row>(db, db('campaigns').select('*'), CAMPAIGN_LIST_ORDER, after, limit);
      return { rows: page.rows.map(campaignOf), next: page.next };
    },

    /** One page of items in list order after `afterPosition`, of one state or all. */
    async items(id: string, filter: { state?: ItemState; afterPosition?: number }, limit: number): Promise<{ rows: CampaignItem[]; hasMore: boolean }> {
      const q = db('campaign_items').where({ campaign_id: id });
      if (filter.state) void q.where({ state: filter.state });
      if (filter.afterPosition !== undefined) void q.where('position', '>', filter.afterPosition);
      const rows = (await q.orderBy('position').limit(limit + 1)) as Row[];
      return { rows: rows.slice(0, limit).map(itemOf), hasMore: rows.length > limit };
    },
  };
}

export type CampaignRepository = ReturnType<typeof createCampaignRepository>;
