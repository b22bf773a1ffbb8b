import type { Knex } from 'knex';
import type { LinkKind, LinkPartner } from '../../domain/link-windows';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

/** Outside product links of bound partner stores and their life on the platform (migration 021). */

export type PartnerLinkStatus = 'listed' | 'publishing' | 'live' | 'taking_down' | 'down' | 'refused';

export interface PartnerLink {
  id: string;
  bindingId: string;
  merchantId: string;
  shopId: string;
  platform: LinkPartner;
  storeId: string;
  linkKind: LinkKind;
  productId: string;
  url: string;
  status: PartnerLinkStatus;
  listedAt: Date;
  windowId: string | null;
  publishedAt: Date | null;
  takenDownAt: Date | null;
  takenDownBy: string | null;
  failedAction: 'publish' | 'take_down' | null;
  refusal: string | null;
}

interface LinkRow {
  id: string;
  binding_id: string;
  merchant_id: string;
  shop_id: string;
  platform: LinkPartner;
  store_id: string;
  link_kind: LinkKind;
  product_id: string;
  url: string;
  status: PartnerLinkStatus;
  listed_at: Date;
  window_id: string | null;
  published_at: Date | null;
  taken_down_at: Date | null;
  taken_down_by: string | null;
  failed_action: 'publish' | 'take_down' | null;
  refusal: string | null;
}

const linkOf = (r: LinkRow): PartnerLink => ({
  id: r.id,
  bindingId: r.binding_id,
  merchantId: r.merchant_id,
  shopId: r.shop_id,
  platform: r.platform,
  storeId: r.store_id,
  linkKind: r.link_kind,
  productId: r.product_id,
  url: r.url,
  status: r.status,
  listedAt: r.listed_at,
  windowId: r.window_id,
  publishedAt: r.published_at,
  takenDownAt: r.taken_down_at,
  takenDownBy: r.taken_down_by,
  failedAction: r.failed_action,
  refusal: r.refusal,
});

export const PARTNER_LINK_LIST_ORDER: readonly SortKey[] = [
  { sql: 'l.listed_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'l.id', type: 'text', direction: 'desc' },
];

/** The side that takes a window's link down: recorded on the link, so it is known which window did. */
export const takenDownByWindow = (windowId: string) => `link-window:${windowId}`;
/** The side that takes an unbound store's links down. */
export const takenDownByBinding = (bindingId: string) => `store-binding:${bindingId}`;

export interface LinkProgress {
  /** Listed or restored links still to go live (none once the window has ended). */
  toPublish: number;
  /** Live under this window now (a refused take-down too: it still has to come down). */
  live: number;
  /** Links this window put live (each once, from its own actions: later windows do not change it). */
  published: number;
  /** Taken down by this window. */
  takenDown: number;
  /** Refused by the platform, publishing or taking down. */
  failed: number;
  publishFailed: number;
  takeDownFailed: number;
}

/** One platform call's links, claimed before the call: a retry re-sends exactly these under `key`. */
export interface ClaimedGroup {
  key: string;
  action: 'publish' | 'take_down';
  shopId: string;
  platform: LinkPartner;
  storeId: string;
  linkKind: LinkKind;
  linkIds: string[];
}

/** What a claim selects (the where of the candidate links) and how its key is made from them. */
export interface ClaimSpec {
  action: 'publish' | 'take_down';
  /** Who calls (`link-window:<id>` or `store-binding:<id>`): its claims are its to resume. */
  actor: string;
  candidates: (q: Knex.QueryBuilder) => Knex.QueryBuilder;
  /** From stored state only (the group's first row and ids), so a retry derives the same key. */
  keyOf: (first: { bindingId: string; linkKind: LinkKind; refusals: number }, linkIds: string[]) => string;
  limit: number;
}

/** A link as the merchant lists it: what it is, before the platform has seen it. */
export type NewPartnerLink = Pick<PartnerLink, 'id' | 'bindingId' | 'merchantId' | 'shopId' | 'platform' | 'storeId' | 'linkKind' | 'productId' | 'url'> & { listedBy: string };

export function createPartnerLinkRepository(db: Knex) {
  const columns = ['l.id', 'l.binding_id', 'l.merchant_id', 'l.shop_id', 'l.platform', 'l.store_id', 'l.link_kind', 'l.product_id', 'l.url', 'l.status', 'l.listed_at', 'l.window_id', 'l.published_at', 'l.taken_down_at', 'l.taken_down_by', 'l.failed_action', 'l.refusal'];

  /**
   * Links a window publishes: those listed while it is open, and those an earlier window's
   * end took down (they come back with the next window), of stores still bound.
   */
  const toPublish = (partner: LinkPartner, linkKind: LinkKind) =>
    db('partner_links as l')
      .join('store_bindings as b', 'b.id', 'l.binding_id')
      .where({ 'b.status': 'bound', 'l.platform': partner, 'l.link_kind': linkKind })
      .where((q) =>
        q.where('l.status', 'listed').orWhere((d) =>
          d
            .where('l.status', 'down')
            .where('l.taken_down_by', 'like', 'link-window:%')
            .whereNotExists(
              db('partner_links as c').whereRaw('c.binding_id = l.binding_id AND c.link_kind = l.link_kind AND c.product_id = l.product_id').whereIn('c.status', ['listed', 'publishing', 'live', 'taking_down']),
            ),
        ),
      );

  // A take-down covers every live link of the window, of stores unbound since and refused before.
  const toTakeDown = (windowId: string) => db('partner_links as l').where({ 'l.window_id': windowId, 'l.status': 'live' });

  const groupOf = (rows: Array<Pick<LinkRow, 'id' | 'shop_id' | 'platform' | 'store_id' | 'link_kind'> & { claim_key: string; status: PartnerLinkStatus }>): ClaimedGroup => ({
    key: rows[0]!.claim_key,
    action: rows[0]!.status === 'publishing' ? 'publish' : 'take_down',
    shopId: rows[0]!.shop_id,
    platform: rows[0]!.platform,
    storeId: rows[0]!.store_id,
    linkKind: rows[0]!.link_kind,
    linkIds: rows.map((r) => r.id),
  });

  async function recordActions(trx: Knex, ids: string[], action: 'publish' | 'take_down', key: string, actor: string, windowId: string | null) {
    if (ids.length === 0) return;
    await trx('partner_link_actions')
      .insert(ids.map((id) => ({ link_id: id, action, key, actor, window_id: windowId })))
      .onConflict(['link_id', 'key'])
      .ignore();
  }

  return {
    /** False when the product already has a current link for this binding and kind. */
    async insert(link: NewPartnerLink): Promise<boolean> {
      const rows = await db('partner_links')
        .insert({
          id: link.id,
          binding_id: link.bindingId,
          merchant_id: link.merchantId,
          shop_id: link.shopId,
          platform: link.platform,
          store_id: link.storeId,
          link_kind: link.linkKind,
          product_id: link.productId,
          url: link.url,
          status: 'listed',
          listed_by: link.listedBy,
        })
        .onConflict(db.raw(`(binding_id, link_kind, product_id) WHERE status IN ('listed', 'publishing', 'live', 'taking_down')`))
        .ignore()
        .returning('id');
      return rows.length > 0;
    },

    async find(id: string): Promise<PartnerLink | undefined> {
      const row = (await db('partner_links as l').select(columns).where('l.id', id).first()) as LinkRow | undefined;
      return row && linkOf(row);
    },

    async page(merchantId: string | undefined, after: Position | undefined, limit: number): Promise<KeysetPage<PartnerLink>> {
      const q = db('partner_links as l').select(columns);
      if (merchantId !== undefined) void q.where('l.merchant_id', merchantId);
      const page = await keysetPage<LinkRow>(db, q, PARTNER_LINK_LIST_ORDER, after, limit);
      return { rows: page.rows.map(linkOf), next: page.next };
    },

    /** The groups this actor claimed and has not settled (a call that may have been made): resumed first, as they are. */
    async claimedBy(actor: string): Promise<ClaimedGroup[]> {
      const rows = (await db('partner_links')
        .where({ claimed_by: actor })
        .whereIn('status', ['publishing', 'taking_down'])
        .orderBy(['claim_key', 'id'])
        .select('id', 'shop_id', 'platform', 'store_id', 'link_kind', 'claim_key', 'status')) as Parameters<typeof groupOf>[0];
      const byKey = new Map<string, typeof rows>();
      for (const r of rows) byKey.set(r.claim_key, [...(byKey.get(r.claim_key) ?? []), r]);
      return [...byKey.values()].map(groupOf);
    },

    /**
     * Claims the next group for one platform call (one binding and kind, ≤ limit links, in id
     * order) under FOR UPDATE, marking them publishing / taking_down with the call's key; none
     * left: undefined. A link re-listed meanwhile makes the claim fail on the one-current index
     * (the retry claims without the old link), so no link goes live unknown to the rows.
     */
    async claim(spec: ClaimSpec): Promise<ClaimedGroup | undefined> {
      return db.transaction(async (trx) => {
        const first = (await spec
          .candidates(trx('partner_links as l'))
          .orderBy(['l.binding_id', 'l.link_kind', 'l.id'])
          .forUpdate('l')
          .skipLocked()
          .first('l.binding_id', 'l.link_kind')) as { binding_id: string; link_kind: LinkKind } | undefined;
        if (!first) return undefined;
        const rows = (await spec
          .candidates(trx('partner_links as l'))
          .where({ 'l.binding_id': first.binding_id, 'l.link_kind': first.link_kind })
          .orderBy('l.id')
          .limit(spec.limit)
          .forUpdate('l')
          .skipLocked()
          .select('l.id', 'l.refusals')) as Array<{ id: string; refusals: number }>;
        const ids = rows.map((r) => r.id);
        const key = spec.keyOf({ bindingId: first.binding_id, linkKind: first.link_kind, refusals: Math.max(...rows.map((r) => r.refusals)) }, ids);
        await trx('partner_links')
          .whereIn('id', ids)
          .update({ status: spec.action === 'publish' ? 'publishing' : 'taking_down', claim_key: key, claimed_by: spec.actor });
        const claimed = (await trx('partner_links').whereIn('id', ids).orderBy('id').select('id', 'shop_id', 'platform', 'store_id', 'link_kind', 'claim_key', 'status')) as Parameters<typeof groupOf>[0];
        return groupOf(claimed);
      });
    },

    /** How many links of a binding a window's call is putting live now. */
    async publishingOf(bindingId: string): Promise<number> {
      const row = (await db('partner_links').where({ binding_id: bindingId, status: 'publishing' }).count({ n: '*' }).first()) as { n: string | number };
      return Number(row.n);
    },

    /** Of a group's links, those no longer claimed under its key (changed by someone else meanwhile). */
    async unclaimed(key: string, linkIds: string[]): Promise<string[]> {
      const still = new Set(((await db('partner_links').where({ claim_key: key }).whereIn('id', linkIds).select('id')) as Array<{ id: string }>).map((r) => r.id));
      return linkIds.filter((id) => !still.has(id));
    },

    /** The platform put the group live: the links are live under the window, each action recorded once. */
    async settlePublished(key: string, windowId: string): Promise<number> {
      return db.transaction(async (trx) => {
        const ids = (await trx('partner_links')
          .where({ claim_key: key, status: 'publishing' })
          .update({ status: 'live', window_id: windowId, published_at: trx.fn.now(), publish_key: key, claim_key: null, claimed_by: null, taken_down_at: null, taken_down_by: null, take_down_key: null, failed_action: null, refusal: null })
          .returning('id')) as Array<{ id: string }>;
        await recordActions(trx, ids.map((r) => r.id), 'publish', key, takenDownByWindow(windowId), windowId);
        return ids.length;
      });
    },

    async settlePublishRefused(key: string, windowId: string, refusal: string): Promise<void> {
      await db('partner_links').where({ claim_key: key, status: 'publishing' }).update({ status: 'refused', window_id: windowId, failed_action: 'publish', refusal, claim_key: null, claimed_by: null });
    },

    /** The platform took the group down: recorded with who did it, each action once. */
    async settleTakenDown(key: string, actor: string): Promise<number> {
      return db.transaction(async (trx) => {
        const rows = (await trx('partner_links')
          .where({ claim_key: key, status: 'taking_down' })
          .update({ status: 'down', taken_down_at: trx.fn.now(), taken_down_by: actor, take_down_key: key, claim_key: null, claimed_by: null, failed_action: null, refusal: null })
          .returning(['id', 'window_id'])) as Array<{ id: string; window_id: string | null }>;
        for (const windowId of new Set(rows.map((r) => r.window_id))) {
          await recordActions(trx, rows.filter((r) => r.window_id === windowId).map((r) => r.id), 'take_down', key, actor, windowId);
        }
        return rows.length;
      });
    },

    /** The platform refused the take-down: the links stay live, the refusal counted (the next try's key differs). */
    async settleTakeDownRefused(key: string, refusal: string): Promise<void> {
      await db('partner_links')
        .where({ claim_key: key, status: 'taking_down' })
        .update({ status: 'live', failed_action: 'take_down', refusal, refusals: db.raw('refusals + 1'), claim_key: null, claimed_by: null });
    },

    /** Links a window still has to publish: the listed and restored links of bound stores of its partner and kind. */
    toPublish,
    toTakeDown,

    /** Where a window's links stand, counted in SQL (thousands of links, one query each). */
    async progress(windowId: string, partner: LinkPartner, linkKind: LinkKind, stillPublishing: boolean): Promise<LinkProgress> {
      const row = (await db('partner_links as l')
        .where('l.window_id', windowId)
        .select(
          db.raw(`count(*) FILTER (WHERE l.status IN ('live', 'taking_down')) AS live`),
          db.raw(`count(*) FILTER (WHERE l.failed_action = 'publish') AS publish_failed`),
          db.raw(`count(*) FILTER (WHERE l.failed_action = 'take_down') AS take_down_failed`),
        )
        .first()) as Record<'live' | 'publish_failed' | 'take_down_failed', string | number>;
      const acted = (await db('partner_link_actions')
        .where({ window_id: windowId })
        .select(db.raw(`count(DISTINCT link_id) FILTER (WHERE action = 'publish') AS published`), db.raw(`count(DISTINCT link_id) FILTER (WHERE action = 'take_down') AS taken_down`))
        .first()) as Record<'published' | 'taken_down', string | number>;
      const pending = stillPublishing ? ((await toPublish(partner, linkKind).count({ n: '*' }).first()) as { n: string | number }) : { n: 0 };
      const [publishFailed, takeDownFailed] = [Number(row.publish_failed), Number(row.take_down_failed)];
      return {
        toPublish: Number(pending.n),
        live: Number(row.live),
        published: Number(acted.published),
        takenDown: Number(acted.taken_down),
        failed: publishFailed + takeDownFailed,
        publishFailed,
        takeDownFailed,
      };
    },

    /** The links the platform refused for this window, with reasons, for ops (at most `limit`). */
    async refusals(windowId: string, limit: number): Promise<Array<{ linkId: string; action: string; refusal: string }>> {
      const rows = (await db('partner_links').where({ window_id: windowId }).whereNotNull('failed_action').orderBy('id').limit(limit).select('id', 'failed_action', 'refusal')) as Array<{
        id: string;
        failed_action: string;
        refusal: string;
      }>;
      return rows.map((r) => ({ linkId: r.id, action: r.failed_action, refusal: r.refusal }));
    },
  };
}

export type PartnerLinkRepository = ReturnType<typeof createPartnerLinkRepository>;
