import crypto from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { createPartnerSecrets } from '../db/repositories/partner-secrets';
import { checkProduct, officialPromoTags, type CatalogueSyncKind, type CategoryMappingRule, type CheckFailure, type SpecialClass } from '../domain/catalogue-checks';
import { ErrorType } from '../domain/errors';
import type { PartnerGateway, PartnerPlatform, PartnerProduct, PartnerProductPage } from '../platform/partners/types';
import type { KuaishouListing, PlatformClient } from '../platform/types';
import type { CatalogueSyncResult, StoreBatchInput, StoreBatchResult, StoreSyncOutcome } from '../workflows/catalogue-sync.defs';
import { keepHeartbeating } from './heartbeat';
import { withPermanentDatabaseFailures } from './database-failures';

/** The store batch's last attempt (workflows/catalogue-sync.ts, its retry policy's maximumAttempts). */
export const LAST_ATTEMPT = 5;
/** Listings per platform call (the platform takes 1–200). */
export const LISTINGS_PER_CALL = 200;

export interface CatalogueSyncDeps {
  db: Knex;
  partners: PartnerGateway;
  platform: PlatformClient;
  /** PARTNER_SECRETS_KEY: opens the Youzan access token inside the activity, never in history. */
  secretsKey: string;
}

interface StoreCounts {
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  gone: number;
  listed: number;
  tagsDropped: number;
  failedByClass: Record<string, number>;
}

/** What a retried attempt resumes from: the batch so far and the store's partner cursor. */
interface BatchProgress {
  done: StoreSyncOutcome[];
  current: { bindingId: string; cursor: string | null; lowerId: string | null; counts: StoreCounts } | null;
}

interface BindingRow {
  id: string;
  merchant_id: string;
  shop_id: string;
  platform: PartnerPlatform;
  store_id: string;
  status: string;
}

/** A row the page's statement changed, as the listing is built from it (the merged stored state). */
interface ChangedRow {
  product_id: string;
  inserted: boolean;
  listing_status: string;
  content_hash: string;
  title: string;
  ks_category: string | null;
  channel_price_fen: string | number;
  inventory: number;
  main_image_url: string | null;
  detail_url: string;
  presale_label: string | null;
  promo_tags: PartnerProduct['promoTags'];
}

const emptyCounts = (): StoreCounts => ({ fetched: 0, inserted: 0, updated: 0, unchanged: 0, gone: 0, listed: 0, tagsDropped: 0, failedByClass: {} });

// A million products a round make this the sync's hottest line: the one-shot digest (Node 20.12
// and later) costs a quarter less than createHash, with the same hex.
const sha256Hex = (text: string): string => (typeof crypto.hash === 'function' ? crypto.hash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex'));
const hash = (value: unknown): string => sha256Hex(JSON.stringify(value)).slice(0, 32);

/**
 * The content hash in three parts, one per kind of run (base.inventory.promo): a run compares and
 * rewrites only its own part, so an inventory run never swallows a title change the next base
 * run must write.
 */
function hashParts(p: PartnerProduct): Record<CatalogueSyncKind, string> {
  return {
    base: hash([p.title, p.description, p.category, p.priceFen, p.channelPriceFen, p.attributes, p.images, p.qualityReport, p.filingNumber, p.detailUrl]),
    inventory: hash([p.inventory, p.presale, p.presaleLabel]),
    promo: hash(p.promoTags),
  };
}
const PART: Record<CatalogueSyncKind, number> = { base: 1, inventory: 2, promo: 3 };

/** A product's stored columns as the partner gives them, with its content hash (bench/sync.ts writes the same). */
export function productColumns(p: PartnerProduct) {
  return {
    product_id: p.productId,
    title: p.title,
    description: p.description,
    category: p.category,
    price_fen: p.priceFen,
    channel_price_fen: p.channelPriceFen,
    inventory: p.inventory,
    presale: p.presale,
    presale_label: p.presaleLabel,
    promo_tags: p.promoTags,
    attributes: p.attributes,
    images: p.images,
    quality_report: p.qualityReport,
    filing_number: p.filingNumber,
    detail_url: p.detailUrl,
    partner_updated_at: p.updatedAt,
    content_hash: contentHashOf(p),
  };
}

/** The stored `content_hash` of a product as the partner gives it. */
export function contentHashOf(p: PartnerProduct): string {
  const parts = hashParts(p);
  return `${parts.base}.${parts.inventory}.${parts.promo}`;
}

/** The columns each kind writes on a product already stored (a new product is written whole). */
const COLUMNS_OF_KIND: Record<CatalogueSyncKind, string[]> = {
  base: ['title', 'description', 'category', 'ks_category', 'price_fen', 'channel_price_fen', 'attributes', 'images', 'quality_report', 'filing_number', 'detail_url', 'partner_updated_at'],
  inventory: ['inventory', 'presale', 'presale_label'],
  promo: ['promo_tags'],
};

const failureStatus = (failures: CheckFailure[]): 'failed' | 'pending' => (failures.length > 0 ? 'failed' : 'pending');

/**
 * A page's first statement, light whatever the products hold: it takes only their ids and content
 * hashes, marks gone the stored products the partner's page range no longer holds, and answers
 * which of the page's products must be written (new, changed in the kind's part of the hash,
 * back from gone, or still pending). Most of a round's products are unchanged: they never travel
 * whole to the database.
 */
export function pageDiffStatement(kind: CatalogueSyncKind): string {
  const part = PART[kind];
  return `
WITH page AS (
  SELECT * FROM jsonb_to_recordset(:hashes::jsonb) AS x(product_id text, content_hash text)
), gone AS (
  -- The page's id range as a range of the key (ids sort bytewise, like the partner's pages);
  -- NOT IN over the page is one hashed lookup a row.
  UPDATE catalogue_products g SET gone_at = now(), last_sync_run_id = :runId
  WHERE g.binding_id = :bindingId AND g.gone_at IS NULL
    AND g.product_id > coalesce(:lowerId::text, '')
    AND (:upperId::text IS NULL OR g.product_id <= :upperId::text)
    AND g.product_id NOT IN (SELECT p.product_id FROM page p)
  RETURNING 1
)
SELECT (SELECT count(*) FROM gone)::int AS gone,
       (SELECT coalesce(json_agg(p.product_id), '[]'::json)
          FROM page p LEFT JOIN catalogue_products c ON c.binding_id = :bindingId AND c.product_id = p.product_id
         WHERE c.product_id IS NULL
            OR split_part(c.content_hash, '.', ${part}) IS DISTINCT FROM split_part(p.content_hash, '.', ${part})
            OR c.gone_at IS NOT NULL OR c.listing_status = 'pending') AS write`;
}

/**
 * The page's second statement, for the products the first found to write (none: no statement):
 * upsert them (under the same condition, should another run have written them meanwhile) and
 * record the check failures of the rows it wrote. Returns the written rows and the counts.
 */
export function pageStatement(kind: CatalogueSyncKind): string {
  const part = PART[kind];
  const keep = (i: number) => (i === part ? `split_part(EXCLUDED.content_hash, '.', ${i})` : `split_part(c.content_hash, '.', ${i})`);
  const sets = COLUMNS_OF_KIND[kind].map((col) => `${col} = EXCLUDED.${col}`).join(', ');
  // A base run's checks are those of a new product, so EXCLUDED carries its status; the other
  // kinds look theirs up in the page (a few products a run, for those).
  const kindStatus = kind === 'base' ? 'EXCLUDED.listing_status' : '(SELECT i.status_kind FROM incoming i WHERE i.product_id = EXCLUDED.product_id)';
  const keepFailedOrHeld = kind === 'base' ? `c.listing_status = 'held'` : `c.listing_status IN ('held', 'failed')`;
  return `
WITH incoming AS (
  SELECT * FROM jsonb_to_recordset(:rows::jsonb) AS x(
    product_id text, title text, description text, category text, ks_category text, price_fen bigint, channel_price_fen bigint,
    inventory integer, presale boolean, presale_label text, promo_tags jsonb, attributes jsonb, images jsonb, quality_report text,
    filing_number text, detail_url text, partner_updated_at timestamptz, content_hash text,
    status_new text, status_kind text, failures_new jsonb, failures_kind jsonb)
), upserted AS (
  INSERT INTO catalogue_products AS c (binding_id, product_id, merchant_id, shop_id, platform, store_id, title, description, category, ks_category,
    price_fen, channel_price_fen, inventory, presale, presale_label, promo_tags, attributes, images, quality_report, filing_number, detail_url,
    partner_updated_at, content_hash, listing_status, last_sync_run_id)
  SELECT :bindingId, product_id, :merchantId, :shopId, :platform, :storeId, title, description, category, ks_category,
    price_fen, channel_price_fen, inventory, presale, presale_label, promo_tags, attributes, images, quality_report, filing_number, detail_url,
    partner_updated_at, content_hash, status_new, :runId
  FROM incoming
  ON CONFLICT (binding_id, product_id) DO UPDATE SET ${sets},
    content_hash = ${keep(1)} || '.' || ${keep(2)} || '.' || ${keep(3)},
    listing_status = CASE WHEN ${kindStatus} = 'failed' THEN 'failed'
                          WHEN ${keepFailedOrHeld} THEN c.listing_status ELSE 'pending' END,
    last_sync_run_id = :runId, changed_at = now(), gone_at = NULL
  WHERE split_part(c.content_hash, '.', ${part}) IS DISTINCT FROM split_part(EXCLUDED.content_hash, '.', ${part})
     OR c.gone_at IS NOT NULL OR c.listing_status = 'pending'
  RETURNING c.product_id, (c.xmax = 0) AS inserted, c.listing_status, c.content_hash, c.title, c.ks_category, c.channel_price_fen, c.inventory,
    c.images -> 0 ->> 'url' AS main_image_url, c.detail_url, c.presale_label, c.promo_tags
), failed AS (
  INSERT INTO catalogue_check_failures (run_id, binding_id, product_id, class, reason, fix)
  SELECT :runId, :bindingId, u.product_id, f.class, f.reason, f.fix
  FROM upserted u JOIN incoming i USING (product_id)
  CROSS JOIN LATERAL jsonb_to_recordset(CASE WHEN u.inserted THEN i.failures_new ELSE i.failures_kind END) AS f(class text, reason text, fix text)
  RETURNING class
)
SELECT (SELECT coalesce(json_agg(u), '[]'::json) FROM upserted u) AS changed,
       (SELECT coalesce(json_object_agg(class, n), '{}'::json) FROM (SELECT class, count(*)::int AS n FROM failed GROUP BY class) x) AS failed`;
}

/** The partner category → Kuaishou category mappings in effect (each key's latest version). */
async function mappingsOf(db: Knex, platform: PartnerPlatform): Promise<Map<string, CategoryMappingRule>> {
  const rows = await db
    .select('partner_category', 'ks_category', 'required_attributes', 'special_class')
    .from(db.raw(`(SELECT DISTINCT ON (partner_category) * FROM category_mappings WHERE partner_platform = ? ORDER BY partner_category, version DESC) m`, [platform]));
  const map = new Map<string, CategoryMappingRule>();
  for (const r of rows as Array<{ partner_category: string; ks_category: string | null; required_attributes: string[]; special_class: SpecialClass }>) {
    if (r.ks_category) map.set(r.partner_category, { ksCategory: r.ks_category, requiredAttributes: r.required_attributes, specialClass: r.special_class });
  }
  return map;
}

const addCounts = (into: Record<string, number>, more: Record<string, number>) => {
  for (const [k, n] of Object.entries(more)) into[k] = (into[k] ?? 0) + n;
};

const isFailure = (err: unknown, ...types: string[]): boolean => err instanceof ApplicationFailure && types.includes(err.type ?? '');

/** A store the run cannot finish: recorded, and the batch goes on with the next one. */
class StoreFailed extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function createCatalogueSyncActivities({ db, partners, platform, secretsKey }: CatalogueSyncDeps) {
  const secrets = createPartnerSecrets(db, secretsKey);

  async function accessTokenOf(binding: BindingRow): Promise<string | undefined> {
    if (binding.platform !== 'youzan') return undefined;
    const row = await db('partner_secrets').where({ binding_id: binding.id, kind: 'access_token' }).whereNull('retired_at').orderBy('created_at', 'desc').first<{ id: string } | undefined>('id');
    const token = row ? await secrets.open(row.id) : null;
    if (!token) throw new StoreFailed('access_token_missing');
    return token;
  }

  /** One page of a store's products at its partner, with the store's access token (opened once a batch: `tokens`). */
  async function readPage(tokens: Map<string, Promise<string | undefined>>, binding: BindingRow, cursor: string | null, limit: number): Promise<PartnerProductPage> {
    if (!tokens.has(binding.id)) tokens.set(binding.id, accessTokenOf(binding));
    return partners.listProducts(binding.platform, binding.store_id, { cursor, limit }, await tokens.get(binding.id));
  }

  /** Pushes the page's listable rows, 200 a call, each call keyed by its content so a retry never sends twice. */
  async function pushListings(runId: string, binding: BindingRow, rows: ChangedRow[], counts: StoreCounts): Promise<void> {
    const listable = rows.filter((r) => r.listing_status === 'pending' && r.ks_category !== null);
    for (let i = 0; i < listable.length; i += LISTINGS_PER_CALL) {
      const group = listable.slice(i, i + LISTINGS_PER_CALL);
      const listings: KuaishouListing[] = group.map((r) => {
        const tags = officialPromoTags(r.promo_tags);
        counts.tagsDropped += tags.dropped;
        return {
          productId: r.product_id,
          title: r.title,
          category: r.ks_category!,
          priceFen: Number(r.channel_price_fen),
          inventory: r.inventory,
          mainImageUrl: r.main_image_url ?? '',
          detailUrl: r.detail_url,
          presaleLabel: r.presale_label,
          promoTags: tags.kept,
        };
      });
      const key = `catalogue:${hash([runId, binding.id, group.map((r) => [r.product_id, r.content_hash])])}`;
      await platform.upsertListings(binding.shop_id, { partner: binding.platform, storeId: binding.store_id, listings }, key);
      counts.listed += group.length;
    }
  }

  async function syncPage(input: StoreBatchInput, binding: BindingRow, products: PartnerProduct[], lowerId: string | null, upperId: string | null, mappings: Map<string, CategoryMappingRule>, counts: StoreCounts) {
    // Both statements in one transaction: a page is written whole or not at all, so a retried
    // page finds what it found before (its gone marks included) and counts it once.
    const page = await db.transaction(async (trx) => {
      const hashes = products.map((p) => ({ product_id: p.productId, content_hash: contentHashOf(p) }));
      const where = { runId: input.runId, bindingId: binding.id, lowerId, upperId };
      const diff = (await trx.raw(pageDiffStatement(input.kind), { hashes: JSON.stringify(hashes), ...where })).rows[0] as { gone: number; write: string[] };
      if (diff.write.length === 0) return { gone: diff.gone, changed: [] as ChangedRow[], failed: {} };
      const toWrite = new Set(diff.write);
      const rows = products
        .filter((p) => toWrite.has(p.productId))
        .map((p) => {
          const mapping = mappings.get(p.category) ?? null;
          const failuresNew = checkProduct(p, mapping, 'base');
          const failuresKind = input.kind === 'base' ? failuresNew : checkProduct(p, mapping, input.kind);
          return {
            ...productColumns(p),
            ks_category: mapping?.ksCategory ?? null,
            status_new: failureStatus(failuresNew),
            status_kind: failureStatus(failuresKind),
            failures_new: failuresNew,
            failures_kind: failuresKind,
          };
        });
      const result = await trx.raw(pageStatement(input.kind), {
        rows: JSON.stringify(rows),
        runId: input.runId,
        bindingId: binding.id,
        merchantId: binding.merchant_id,
        shopId: binding.shop_id,
        platform: binding.platform,
        storeId: binding.store_id,
      });
      const written = (result.rows as Array<{ changed: ChangedRow[]; failed: Record<string, number> }>)[0]!;
      return { gone: diff.gone, ...written };
    });
    const inserted = page.changed.filter((r) => r.inserted).length;
    counts.fetched += products.length;
    counts.inserted += inserted;
    counts.updated += page.changed.length - inserted;
    // Found to write but written meanwhile by another run: unchanged for this one.
    counts.unchanged += products.length - page.changed.length;
    counts.gone += page.gone;
    addCounts(counts.failedByClass, page.failed);
    await pushListings(input.runId, binding, page.changed, counts);
  }

  async function recordStore(runId: string, bindingId: string, status: StoreSyncOutcome['status'], reason: string | null, counts: StoreCounts): Promise<void> {
    // Pushed listings become `listed` once per store, not once per page. With none pushed there
    // is nothing to mark, and the store's row is one statement: no transaction around it.
    const marks = status === 'synced' && counts.listed > 0;
    const write = async (trx: Knex) => {
      if (marks) await trx('catalogue_products').where({ binding_id: bindingId, last_sync_run_id: runId, listing_status: 'pending' }).whereNotNull('ks_category').update({ listing_status: 'listed' });
      await trx('catalogue_sync_stores')
        .insert({
          run_id: runId,
          binding_id: bindingId,
          status,
          reason,
          fetched: counts.fetched,
          inserted: counts.inserted,
          updated: counts.updated,
          unchanged: counts.unchanged,
          gone: counts.gone,
          listed: counts.listed,
          tags_dropped: counts.tagsDropped,
          failed_by_class: JSON.stringify(counts.failedByClass),
        })
        .onConflict(['run_id', 'binding_id'])
        .ignore();
    };
    if (marks) await db.transaction(write);
    else await write(db);
  }

  return withPermanentDatabaseFailures({
    async openCatalogueSyncRun(input: { runId: string; kind: CatalogueSyncKind; startedBy: string; workflowId: string; startedAt: string }): Promise<void> {
      await db('catalogue_sync_runs')
        .insert({ id: input.runId, kind: input.kind, started_by: input.startedBy, workflow_id: input.workflowId, started_at: input.startedAt })
        .onConflict('id')
        .ignore();
    },

    /**
     * A batch of stores after `afterBindingId`, each synced page by page: bound stores with
     * sync on, and stores waiting for re-authorisation (skipped, with the reason).
     */
    async syncCatalogueStores(input: StoreBatchInput): Promise<StoreBatchResult> {
      const beat = keepHeartbeating<BatchProgress>();
      const progress: BatchProgress = beat.resumed ?? { done: [], current: null };
      try {
        const q = db('store_bindings')
          .where((w) => w.where({ status: 'bound', sync_enabled: true }).orWhere({ status: 'needs_reauth' }))
          .orderBy('id')
          .limit(input.storesPerBatch)
          .select<BindingRow[]>('id', 'merchant_id', 'shop_id', 'platform', 'store_id', 'status');
        if (input.afterBindingId !== null) q.where('id', '>', input.afterBindingId);
        // A lane's share of the stores: a stable hash of the binding id, so a store is always in one lane.
        if (input.lane && input.lane.of > 1) q.whereRaw('mod(abs(hashtext(id)::bigint), ?) = ?', [input.lane.of, input.lane.index]);
        const bindings = await q;
        const mappingCache = new Map<PartnerPlatform, Map<string, CategoryMappingRule>>();
        const tokens = new Map<string, Promise<string | undefined>>();
        const firstPage = (binding: BindingRow) => readPage(tokens, binding, null, input.pageSize);
        // A store's first page, read while the store before it is written (see below).
        let readAhead: { bindingId: string; page: Promise<PartnerProductPage> } | null = null;
        for (const [index, binding] of bindings.entries()) {
          if (progress.done.some((d) => d.bindingId === binding.id)) continue;
          if (binding.status === 'needs_reauth') {
            await recordStore(input.runId, binding.id, 'skipped', 'needs_reauth', emptyCounts());
            progress.done.push({ bindingId: binding.id, status: 'skipped', reason: 'needs_reauth' });
            beat.progress(progress);
            continue;
          }
          const resumed = progress.current?.bindingId === binding.id ? progress.current : null;
          const current = resumed ?? { bindingId: binding.id, cursor: null, lowerId: null, counts: emptyCounts() };
          progress.current = current;
          let outcome: StoreSyncOutcome;
          try {
            if (!mappingCache.has(binding.platform)) mappingCache.set(binding.platform, await mappingsOf(db, binding.platform));
            // The next page is read while this one is written, and the next store's first page
            // while this store's last one is: the partner's answer and its parsing overlap the
            // database's work. A page read ahead is read again after a retry.
            let next = current.cursor === null && readAhead?.bindingId === binding.id ? readAhead.page : readPage(tokens, binding, current.cursor, input.pageSize);
            readAhead = null;
            for (;;) {
              const page = await next;
              if (page.nextCursor !== null) {
                next = readPage(tokens, binding, page.nextCursor, input.pageSize);
                // Its failure is the loop's to report, on its turn.
                next.catch(() => undefined);
              } else {
                const following = bindings.slice(index + 1).find((b) => b.status !== 'needs_reauth' && !progress.done.some((d) => d.bindingId === b.id));
                if (following) {
                  readAhead = { bindingId: following.id, page: firstPage(following) };
                  // Its failure is that store's to report, on its turn.
                  readAhead.page.catch(() => undefined);
                }
              }
              const upperId = page.nextCursor === null ? null : (page.products.at(-1)?.productId ?? null);
              await syncPage(input, binding, page.products, current.lowerId, upperId, mappingCache.get(binding.platform)!, current.counts);
              if (page.nextCursor === null) break;
              current.cursor = page.nextCursor;
              current.lowerId = upperId;
              beat.progress(progress);
            }
            outcome = { bindingId: binding.id, status: 'synced', reason: null };
          } catch (err) {
            const reason = failureReason(err, Context.current().info.attempt);
            if (reason === null) throw err;
            outcome = { bindingId: binding.id, status: 'failed', reason };
          }
          await recordStore(input.runId, binding.id, outcome.status, outcome.reason, current.counts);
          progress.done.push(outcome);
          progress.current = null;
          beat.progress(progress);
        }
        return { stores: progress.done, lastBindingId: bindings.at(-1)?.id ?? null };
      } finally {
        beat.stop();
      }
    },

    /** Totals of the run from its stores' rows, written once; a retry writes the same. */
    async finishCatalogueSyncRun(input: { runId: string; finishedAt: string }): Promise<CatalogueSyncResult> {
      const stores = await db('catalogue_sync_stores').where({ run_id: input.runId }).select<Array<{ status: string; failed_by_class: Record<string, number> }>>('status', 'failed_by_class');
      const count = (s: string) => stores.filter((r) => r.status === s).length;
      const failedByClass: Record<string, number> = {};
      for (const s of stores) addCounts(failedByClass, s.failed_by_class);
      const [run] = await db('catalogue_sync_runs')
        .where({ id: input.runId })
        .update({ finished_at: db.raw('coalesce(finished_at, ?)', [input.finishedAt]), stores_done: count('synced'), stores_skipped: count('skipped'), stores_failed: count('failed') })
        .returning<Array<{ kind: CatalogueSyncKind }>>(['kind']);
      if (!run) throw ApplicationFailure.nonRetryable(`catalogue sync run ${input.runId} not found`, ErrorType.RecordNotFound);
      return { runId: input.runId, kind: run.kind, storesDone: count('synced'), storesSkipped: count('skipped'), storesFailed: count('failed'), failedByClass };
    },
  });
}

/**
 * Why a store failed for good, or null when the attempt should be retried: a partner's
 * refusal or revoked authorisation at once, an outage (partner or platform) on the last
 * attempt only.
 */
function failureReason(err: unknown, attempt: number): string | null {
  if (err instanceof StoreFailed) return err.reason;
  if (isFailure(err, ErrorType.PartnerAuthorisationRevoked)) return 'authorisation_revoked';
  if (isFailure(err, ErrorType.PlatformRejected)) return 'rejected';
  if (isFailure(err, ErrorType.PlatformUnavailable) && attempt >= LAST_ATTEMPT) return 'unavailable';
  return null;
}

export type CatalogueSyncActivities = ReturnType<typeof createCatalogueSyncActivities>;
