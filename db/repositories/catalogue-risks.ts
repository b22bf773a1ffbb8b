import type { Knex } from 'knex';
import { BANNED_WORD_LIMIT, foldWords, type PriceObservation, type RiskKind, type StoodSpan } from '../../domain/catalogue-risks';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

/** A product of a sync run, as the risk checks read it. */
export interface ScannedProduct {
  productId: string;
  title: string;
  description: string;
  priceFen: number;
  channelPriceFen: number;
  listingStatus: 'pending' | 'listed' | 'failed' | 'held';
  holdReason: string | null;
  /** The status before a hold (pending: never on the platform, so held and released here only). */
  heldFromStatus: string | null;
}

export interface FindingRow {
  key: string;
  binding_id: string;
  product_id: string;
  merchant_id: string;
  shop_id: string;
  kind: RiskKind;
  day: string;
  details: Record<string, unknown>;
  sync_run_id: string;
  case_id: string | null;
  case_refused: string | null;
  status: FindingStatus;
  found_at: Date;
  fixed_at: Date | null;
  closed_at: Date | null;
  attached_to_case_at: Date | null;
}

export type FindingStatus = 'open' | 'fixed' | 'closed';

/** The list would hold more than BANNED_WORD_LIMIT words with the addition. */
export class BannedWordListFull extends Error {
  constructor(readonly size: number) {
    super(`the banned-word list holds ${size} words; at most ${BANNED_WORD_LIMIT} are kept`);
  }
}

export interface NewFinding {
  key: string;
  productId: string;
  kind: RiskKind;
  details: Record<string, unknown>;
}

export interface BannedWordList {
  version: number;
  words: string[];
}

/** What a price gap holds a listing with: the release looks for it. */
export const PRICE_GAP_HOLD = 'price_gap';

/** Findings, the newest first. */
export const FINDING_LIST_ORDER: readonly SortKey[] = [
  { sql: 'f.found_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'f.key', type: 'text', direction: 'desc' },
];

export interface FindingListFilters {
  merchantId?: string;
  shopId?: string;
  kind?: RiskKind;
  status?: FindingStatus;
}

/** Days as text: a `date` read back as a JS Date would shift by the server's zone. */
const DAY = `to_char(day, 'YYYY-MM-DD')`;

/** The banned-word list at its newest version: every word of every version so far, folded and deduplicated. */
async function bannedWords(q: Knex): Promise<BannedWordList> {
  const rows: Array<{ version: number; words_added: string[] }> = await q('banned_word_versions').orderBy('version').select('version', 'words_added');
  const words = foldWords(rows.flatMap((r) => r.words_added));
  return { version: rows.at(-1)?.version ?? 0, words };
}

export function createCatalogueRiskRepository(db: Knex) {
  return {
    /**
     * The price change log: a row for each live product whose channel price differs from its
     * latest observation (or that has none); an unchanged price writes nothing (it is carried
     * forward). A change later the same day replaces the day's row. Only products whose price
     * differs from the one they keep as observed are looked at (a partial index holds just
     * those); afterwards each keeps its log's latest price, so a row that lost to a newer one
     * (an older run scanning last) leaves the product to be looked at again next time.
     */
    async recordObservations(bindingId: string, syncRunId: string, day: string, at: Date): Promise<number> {
      return db.transaction(async (trx) => {
        const moved = 'p.binding_id = :bindingId AND p.gone_at IS NULL AND p.observed_channel_price_fen IS DISTINCT FROM p.channel_price_fen';
        const result = await trx.raw(
          `INSERT INTO catalogue_price_observations (binding_id, product_id, day, channel_price_fen, partner_price_fen, observed_at, sync_run_id)
           SELECT p.binding_id, p.product_id, :day::date, p.channel_price_fen, p.price_fen, :at, :syncRunId
             FROM catalogue_products p
             LEFT JOIN LATERAL (
                  SELECT o.channel_price_fen FROM catalogue_price_observations o
                   WHERE o.binding_id = p.binding_id AND o.product_id = p.product_id
                   ORDER BY o.day DESC LIMIT 1) latest ON true
            WHERE ${moved} AND latest.channel_price_fen IS DISTINCT FROM p.channel_price_fen
           ON CONFLICT (binding_id, product_id, day) DO UPDATE
              SET channel_price_fen = excluded.channel_price_fen, partner_price_fen = excluded.partner_price_fen,
                  observed_at = excluded.observed_at, sync_run_id = excluded.sync_run_id
            WHERE catalogue_price_observations.observed_at <= excluded.observed_at`,
          { bindingId, day, at, syncRunId },
        );
        await trx.raw(
          `UPDATE catalogue_products p SET observed_channel_price_fen = (
              SELECT o.channel_price_fen FROM catalogue_price_observations o
               WHERE o.binding_id = p.binding_id AND o.product_id = p.product_id ORDER BY o.day DESC LIMIT 1)
            WHERE ${moved}`,
          { bindingId },
        );
        return (result as { rowCount: number }).rowCount;
      });
    },

    /**
     * One page, in product id order after `afterId`, of the store's live products whose findings
     * can change: written by this run, with an open finding, with a closed finding not yet
     * judged on a later day, with a price change since `changedSince`, or not yet judged under
     * the list version. Every other product has the text,
     * prices, findings and reference it was last judged with, so judging it again finds the same.
     */
    async productsToJudge(bindingId: string, syncRunId: string, listVersion: number, changedSince: string, afterId: string | null, limit: number): Promise<ScannedProduct[]> {
      // Each reason gives its first `limit` live products after `afterId`, in key order; their
      // union holds the page's first `limit` products whatever the table's statistics say (a
      // store just loaded is not analysed yet: an IN over the union was planned as a nested
      // loop of the whole store against itself).
      const live = 'JOIN catalogue_products c ON c.binding_id = x.binding_id AND c.product_id = x.product_id AND c.gone_at IS NULL';
      const { rows } = (await db.raw(
        `WITH candidates AS (
           (SELECT x.product_id FROM catalogue_products x
             WHERE x.binding_id = :bindingId AND x.gone_at IS NULL AND x.last_sync_run_id = :syncRunId AND x.product_id > :after
             ORDER BY x.product_id LIMIT :limit)
           UNION
           (SELECT x.product_id FROM catalogue_products x
             WHERE x.binding_id = :bindingId AND x.gone_at IS NULL AND (x.risk_list_version IS NULL OR x.risk_list_version < :listVersion) AND x.product_id > :after
             ORDER BY x.product_id LIMIT :limit)
           UNION
           (SELECT DISTINCT x.product_id FROM risk_findings x ${live}
             WHERE x.binding_id = :bindingId AND x.status = 'open' AND x.product_id > :after
             ORDER BY x.product_id LIMIT :limit)
           UNION
           -- a closed finding relapses under a later day's key: judged once on a day after it
           (SELECT DISTINCT x.product_id FROM risk_findings x ${live}
             WHERE x.binding_id = :bindingId AND x.status = 'closed' AND x.product_id > :after AND (c.risk_judged_on IS NULL OR x.day >= c.risk_judged_on)
             ORDER BY x.product_id LIMIT :limit)
           UNION
           (SELECT DISTINCT x.product_id FROM catalogue_price_observations x ${live}
             WHERE x.binding_id = :bindingId AND x.day >= :changedSince::date AND x.product_id > :after
               -- a product's first observation is no change: the days before it have no price
               AND EXISTS (SELECT 1 FROM catalogue_price_observations e WHERE e.binding_id = x.binding_id AND e.product_id = x.product_id AND e.day < x.day)
             ORDER BY x.product_id LIMIT :limit))
         SELECT p.product_id, p.title, p.description, p.price_fen, p.channel_price_fen, p.listing_status, p.hold_reason, p.held_from_status
           FROM candidates k JOIN catalogue_products p ON p.binding_id = :bindingId AND p.product_id = k.product_id
          ORDER BY p.product_id
          LIMIT :limit`,
        { bindingId, syncRunId, listVersion, changedSince, after: afterId ?? '', limit },
      )) as { rows: Array<Record<string, string | number | null>> };
      return rows.map((r) => ({
        productId: String(r.product_id),
        title: String(r.title),
        description: String(r.description),
        priceFen: Number(r.price_fen),
        channelPriceFen: Number(r.channel_price_fen),
        listingStatus: r.listing_status as ScannedProduct['listingStatus'],
        holdReason: r.hold_reason === null ? null : String(r.hold_reason),
        heldFromStatus: r.held_from_status === null ? null : String(r.held_from_status),
      }));
    },

    /** The products were judged on the day under the list version, in one statement. */
    async markJudged(bindingId: string, productIds: string[], listVersion: number, day: string): Promise<void> {
      if (productIds.length > 0)
        await db.raw(
          `UPDATE catalogue_products SET risk_list_version = ?, risk_judged_on = ?::date
            WHERE binding_id = ? AND product_id = ANY(?)
              AND (risk_list_version IS DISTINCT FROM ? OR risk_judged_on IS DISTINCT FROM ?::date)`,
          [listVersion, day, bindingId, productIds, listVersion, day],
        );
    },

    /**
     * What the reference of each product is made of, between two days (inclusive): its price
     * observations in the window with the latest one before it (the price carried into the
     * window), and the spans its fluctuation findings stood on (from its day to the Shanghai day
     * it was fixed or closed; open-ended while open).
     */
    async priceHistory(bindingId: string, productIds: string[], from: string, to: string): Promise<Map<string, { observations: PriceObservation[]; stood: StoodSpan[] }>> {
      const byProduct = new Map<string, { observations: PriceObservation[]; stood: StoodSpan[] }>();
      if (productIds.length === 0) return byProduct;
      const of = (id: string) => byProduct.get(id) ?? byProduct.set(id, { observations: [], stood: [] }).get(id)!;
      const { rows: observed } = (await db.raw(
        `SELECT product_id, ${DAY} AS day, channel_price_fen FROM catalogue_price_observations
          WHERE binding_id = ? AND product_id = ANY(?) AND day BETWEEN ?::date AND ?::date
         UNION ALL
         (SELECT DISTINCT ON (product_id) product_id, ${DAY} AS day, channel_price_fen FROM catalogue_price_observations
           WHERE binding_id = ? AND product_id = ANY(?) AND day < ?::date
           ORDER BY product_id, day DESC)`,
        [bindingId, productIds, from, to, bindingId, productIds, from],
      )) as { rows: Array<{ product_id: string; day: string; channel_price_fen: string }> };
      for (const r of observed) of(r.product_id).observations.push({ day: r.day, channelPriceFen: Number(r.channel_price_fen) });
      const { rows: stood } = (await db.raw(
        `SELECT product_id, ${DAY} AS day, to_char((coalesce(fixed_at, closed_at) AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD') AS until
           FROM risk_findings
          WHERE binding_id = ? AND product_id = ANY(?) AND kind = 'price_fluctuation' AND day <= ?::date
            AND (coalesce(fixed_at, closed_at) IS NULL OR (coalesce(fixed_at, closed_at) AT TIME ZONE 'Asia/Shanghai')::date > ?::date)`,
        [bindingId, productIds, to, from],
      )) as { rows: Array<{ product_id: string; day: string; until: string | null }> };
      for (const r of stood) of(r.product_id).stood.push({ from: r.day, until: r.until });
      return byProduct;
    },

    bannedWords: () => bannedWords(db),

    /** The newest list version (0: none): versions never change once written, so a list read at one stays right for it. */
    async bannedWordsVersion(): Promise<number> {
      const row = await db('banned_word_versions').max({ v: 'version' }).first<{ v: number | null } | undefined>();
      return Number(row?.v ?? 0);
    },

    /**
     * A new version adding the words not yet on the list, under a lock so two additions get
     * consecutive versions; words are stored folded and compared folded (ＢＥＳＴ, Best and best
     * are one word); nothing new writes no version; a list that would pass BANNED_WORD_LIMIT
     * refuses the addition (BannedWordListFull).
     */
    async addBannedWords(words: string[], addedBy: string, source: string, at: Date): Promise<{ version: number; added: string[] }> {
      return db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['banned_word_versions']);
        const current = await bannedWords(trx);
        const listed = new Set(current.words);
        const added = foldWords(words).filter((w) => !listed.has(w));
        if (added.length === 0) return { version: current.version, added };
        if (listed.size + added.length > BANNED_WORD_LIMIT) throw new BannedWordListFull(listed.size);
        const version = current.version + 1;
        await trx('banned_word_versions').insert({ version, words_added: JSON.stringify(added), added_by: addedBy, source, added_at: at });
        return { version, added };
      });
    },

    /**
     * Records the findings not yet recorded: a key already recorded (a re-run or a retry the
     * same day) and a product whose finding of the kind is still open (an earlier day's) keep
     * what they have; a finding fixed earlier the same day and found again is re-opened, on the
     * same case (a closed one stays closed: its case ended or was refused).
     */
    async recordFindings(binding: { id: string; merchantId: string; shopId: string }, day: string, syncRunId: string, at: Date, findings: NewFinding[]): Promise<void> {
      if (findings.length === 0) return;
      await db('risk_findings')
        .insert(
          findings.map((f) => ({
            key: f.key,
            binding_id: binding.id,
            product_id: f.productId,
            merchant_id: binding.merchantId,
            shop_id: binding.shopId,
            kind: f.kind,
            day,
            details: JSON.stringify(f.details),
            sync_run_id: syncRunId,
            found_at: at,
          })),
        )
        .onConflict()
        .ignore();
      await db('risk_findings as f')
        .whereIn('f.key', findings.map((f) => f.key))
        .where('f.status', 'fixed')
        .whereNotExists(db('risk_findings as o').whereRaw(`o.binding_id = f.binding_id AND o.product_id = f.product_id AND o.kind = f.kind AND o.status = 'open'`))
        .update({ status: 'open', fixed_at: null, attached_to_case_at: null });
    },

    /**
     * One page, in key order after `afterKey`, of the store's open findings still waiting for
     * their case (a scan that stopped between recording a finding and opening its case).
     */
    async caselessPage(bindingId: string, afterKey: string | null, limit: number): Promise<FindingRow[]> {
      const q = db('risk_findings')
        .where({ binding_id: bindingId, status: 'open' })
        .whereIn('kind', ['price_fluctuation', 'banned_words'])
        .whereNull('case_id')
        .whereNull('case_refused')
        .orderBy('key')
        .limit(limit)
        .select('*', db.raw(`${DAY} AS day`));
      if (afterKey !== null) void q.where('key', '>', afterKey);
      return q;
    },

    /** Closes the store's open findings whose case ended (expired, reversed): a relapse is a new finding and case. */
    async closeEnded(bindingId: string, at: Date): Promise<number> {
      return db('risk_findings as f')
        .where('f.binding_id', bindingId)
        .where('f.status', 'open')
        .whereExists(db('violation_cases as c').whereRaw('c.id = f.case_id').whereIn('c.status', ['expired', 'reversed']))
        .update({ status: 'closed', closed_at: at });
    },

    /** The open findings of the products, of every kind. */
    async openFindings(bindingId: string, productIds: string[]): Promise<FindingRow[]> {
      return db('risk_findings')
        .where({ binding_id: bindingId, status: 'open' })
        .whereIn('product_id', productIds)
        .select('*', db.raw(`${DAY} AS day`));
    },

    async setCase(key: string, caseId: string): Promise<void> {
      await db('risk_findings').where({ key }).update({ case_id: caseId });
    },

    /** A refused case closes its finding (no case can hold it open): a relapse is a new finding. */
    async setCaseRefused(key: string, reason: string, at: Date): Promise<void> {
      await db('risk_findings').where({ key, status: 'open' }).update({ case_refused: reason, status: 'closed', closed_at: at });
    },

    async setFixed(keys: string[], at: Date): Promise<void> {
      if (keys.length > 0) await db('risk_findings').whereIn('key', keys).where({ status: 'open' }).update({ status: 'fixed', fixed_at: at });
    },

    /** The products' fixed findings whose case is still undecided and does not yet have the fix. */
    async fixesToAttach(bindingId: string, productIds: string[]): Promise<Array<FindingRow & { case_status: string }>> {
      return db('risk_findings as f')
        .join('violation_cases as c', 'c.id', 'f.case_id')
        .where('f.binding_id', bindingId)
        .whereIn('f.product_id', productIds)
        .where('f.status', 'fixed')
        .whereNull('f.attached_to_case_at')
        .whereIn('c.status', ['opening', 'appealable', 'appealed'])
        .select('f.*', db.raw(`to_char(f.day, 'YYYY-MM-DD') AS day`), 'c.status as case_status');
    },

    async setAttached(key: string, at: Date): Promise<void> {
      await db('risk_findings').where({ key }).update({ attached_to_case_at: at });
    },

    /**
     * The listings a price gap held: 'held' with the reason, keeping the status it had (a
     * pending product, never listed, must not become listed by the release; the sync lists
     * nothing held).
     */
    async setHeld(bindingId: string, productIds: string[], reason: string): Promise<void> {
      if (productIds.length > 0)
        await db('catalogue_products')
          .where({ binding_id: bindingId })
          .whereNot({ listing_status: 'held' })
          .whereIn('product_id', productIds)
          .update({ listing_status: 'held', hold_reason: reason, held_from_status: db.ref('listing_status') });
    },

    /** Released: back to the status the product had before the hold. */
    async setReleased(bindingId: string, productIds: string[]): Promise<void> {
      if (productIds.length > 0)
        await db('catalogue_products')
          .where({ binding_id: bindingId, listing_status: 'held' })
          .whereIn('product_id', productIds)
          .update({ listing_status: db.raw(`coalesce(held_from_status, 'listed')`), hold_reason: null, held_from_status: null });
    },

    /** One page of findings, the newest first. */
    async page(filters: FindingListFilters, after: Position | undefined, limit: number): Promise<KeysetPage<FindingRow>> {
      const q = db('risk_findings as f').select('f.*', db.raw(`to_char(f.day, 'YYYY-MM-DD') AS day`));
      if (filters.merchantId !== undefined) void q.where('f.merchant_id', filters.merchantId);
      if (filters.shopId !== undefined) void q.where('f.shop_id', filters.shopId);
      if (filters.kind !== undefined) void q.where('f.kind', filters.kind);
      if (filters.status !== undefined) void q.where('f.status', filters.status);
      return keysetPage<FindingRow>(db, q, FINDING_LIST_ORDER, after, limit);
    },
  };
}

export type CatalogueRiskRepository = ReturnType<typeof createCatalogueRiskRepository>;
