import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { PlatformClient } from '../platform/types';
import type { PartnerPlatform } from '../platform/partners/types';
import { createCatalogueRiskRepository, PRICE_GAP_HOLD, type FindingRow, type NewFinding, type ScannedProduct } from '../db/repositories/catalogue-risks';
import { createViolationRepository } from '../db/repositories/violations';
import { canonicalJson } from '../domain/canonical-json';
import { shanghaiDate } from '../domain/calendar';
import {
  changedSinceDay,
  dailyPricesInWindow,
  findBannedWords,
  findingKey,
  priceFluctuates,
  priceGap,
  referenceTwiceFen,
  referenceWindow,
  RISK_KINDS,
  type BannedWordHit,
  type RiskKind,
} from '../domain/catalogue-risks';
import { ErrorType, ViolationNotOpened } from '../domain/errors';
import { openViolationCase } from './violation-open';
import { keepHeartbeating, type Heartbeat } from './heartbeat';

/** The risk checks over a bound store's live products, after each sync run (docs/rules.md §5.3). */
export interface RiskScanInput {
  bindingId: string;
  /**
   * The sync run the scan follows: the products it wrote are judged, with every other product
   * whose findings can change (an open finding, a recent price change, a newer banned-word list).
   */
  syncRunId: string;
  /** ISO-8601 instant of the run: the day findings are dated by (Asia/Shanghai). */
  asOf: string;
}

export interface RiskScanSummary {
  /** The products judged. */
  scanned: number;
  /** Findings by kind: price_gap, price_fluctuation, banned_words. */
  findings: Record<string, number>;
  casesOpened: number;
  held: number;
  released: number;
}

export interface CatalogueRiskDeps {
  db: Knex;
  platform: PlatformClient;
  temporal?: Client;
  taskQueue?: string;
}

/** Products read and judged at a time: a store's 100k products never sit in memory at once. */
const PAGE = 1000;
/** The platform takes 1 to 200 listings per hold call. */
const HOLD_BATCH = 200;
/** Who opens the cases the checks find. */
const OPENED_BY = 'system';

/** What a fluctuation or banned-word finding opens. */
const CASE_TYPE: Partial<Record<RiskKind, 'price_violation' | 'false_advertising'>> = { price_fluctuation: 'price_violation', banned_words: 'false_advertising' };

/**
 * A long scan's heartbeat: its progress, and a beat every few seconds in between, so one slow
 * statement never looks like a dead worker (a retried attempt would run beside it). Nothing to
 * report to outside an activity (a direct call).
 */
function scanHeartbeat<D>(): Heartbeat<D> {
  try {
    Context.current();
  } catch {
    return { resumed: undefined, progress: () => undefined, stop: () => undefined };
  }
  return keepHeartbeating<D>();
}

const hash = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');

interface Judged {
  found: NewFinding[];
  /** Open findings the scan no longer finds. */
  fixed: string[];
  /** Listings on the platform to hold or release. */
  hold: string[];
  release: string[];
  /** Products never listed (pending): held and released in the catalogue only, so the sync does not list them. */
  holdUnlisted: string[];
  releaseUnlisted: string[];
}

/** The case's evidence: what was found, in words, and the product it cites. */
function evidenceOf(f: FindingRow): { summary: string; productIds: string[] } {
  const d = f.details;
  if (f.kind === 'banned_words') {
    const hits = (d.words as BannedWordHit[]).map((h) => `"${h.word}" in ${h.fields.join(' and ')}`).join('; ');
    return { summary: `Banned words (list version ${String(d.listVersion)}) in product ${f.product_id} on ${f.day}: ${hits}.`, productIds: [f.product_id] };
  }
  return {
    summary: `Price of product ${f.product_id} moved more than 15% on ${f.day}: channel price ${String(d.channelPriceFen)} fen against a reference of ${String(d.referenceFen)} fen (median of the ${String(d.referenceDays)} observed days ${String(d.referenceFrom)}..${String(d.referenceTo)}).`,
    productIds: [f.product_id],
  };
}

/**
 * Judges the store's products whose findings can change after a sync run and acts on what it finds: a price gap holds the listing (and
 * releases it when the gap is gone), a price fluctuation opens a price violation and banned
 * words a false-advertising case, each under its finding's key so a re-run or a retry never
 * opens a second case; a finding fixed while its case is undecided goes to the case as evidence.
 */
export function createCatalogueRiskActivities({ db, platform, temporal, taskQueue }: CatalogueRiskDeps) {
  const risks = createCatalogueRiskRepository(db);
  const cases = createViolationRepository(db);
  // The folded list of the newest version, read again only when a newer version is written.
  let newestList: Awaited<ReturnType<typeof risks.bannedWords>> | undefined;
  async function bannedWordList() {
    if (newestList === undefined || newestList.version !== (await risks.bannedWordsVersion())) newestList = await risks.bannedWords();
    return newestList;
  }

  function judge(bindingId: string, day: string, products: ScannedProduct[], history: Map<string, readonly number[]>, open: FindingRow[], list: { version: number; words: string[] }): Judged {
    const judged: Judged = { found: [], fixed: [], hold: [], release: [], holdUnlisted: [], releaseUnlisted: [] };
    const window = referenceWindow(day);
    const openOf = (productId: string, kind: RiskKind) => open.find((f) => f.product_id === productId && f.kind === kind);
    for (const p of products) {
      const found = (kind: RiskKind, details: Record<string, unknown>) => judged.found.push({ key: findingKey(bindingId, p.productId, kind, day), productId: p.productId, kind, details });

      const gap = priceGap(p.channelPriceFen, p.priceFen);
      if (gap) {
        found('price_gap', { channelPriceFen: p.channelPriceFen, partnerPriceFen: p.priceFen });
        if (p.listingStatus === 'listed') judged.hold.push(p.productId);
        else if (p.listingStatus === 'pending') judged.holdUnlisted.push(p.productId);
      } else if (p.listingStatus === 'held' && p.holdReason?.startsWith(PRICE_GAP_HOLD)) {
        (p.heldFromStatus === 'pending' ? judged.releaseUnlisted : judged.release).push(p.productId);
      }

      // While a fluctuation finding stands (or is fixed by this very scan) the product's price is
      // judged against that finding's reference only: a price put back is a fix, never a new move.
      const fluctuation = openOf(p.productId, 'price_fluctuation');
      const twice = referenceTwiceFen(history.get(p.productId) ?? []);
      if (!fluctuation && twice !== undefined && priceFluctuates(p.channelPriceFen, twice)) {
        const days = history.get(p.productId)!.length;
        found('price_fluctuation', { channelPriceFen: p.channelPriceFen, referenceFen: twice / 2, referenceDays: days, referenceFrom: window.from, referenceTo: window.to });
      }
      const hits = findBannedWords({ title: p.title, description: p.description }, list.words);
      if (hits.length > 0) found('banned_words', { words: hits, listVersion: list.version });

      // An open finding the scan no longer finds has been fixed; a fluctuation is judged against its own reference.
      const stillMoved = fluctuation && priceFluctuates(p.channelPriceFen, 2 * Number(fluctuation.details.referenceFen));
      const stillFound: Record<RiskKind, boolean> = { price_gap: gap, price_fluctuation: Boolean(stillMoved), banned_words: hits.length > 0 };
      for (const kind of RISK_KINDS) {
        const f = openOf(p.productId, kind);
        if (f && !stillFound[kind]) judged.fixed.push(f.key);
      }
    }
    return judged;
  }

  /**
   * Holds or releases listings, 200 at a time: on the platform (each call keyed by its content
   * within the run) for listed products, in the catalogue only for products never listed.
   */
  async function holdOrRelease(shopId: string, binding: { id: string; platform: PartnerPlatform; storeId: string }, syncRunId: string, action: 'hold' | 'release', productIds: string[], onPlatform: boolean): Promise<number> {
    let changed = 0;
    for (let i = 0; i < productIds.length; i += HOLD_BATCH) {
      const batch = productIds.slice(i, i + HOLD_BATCH);
      const key = `catalogue-risk:${syncRunId}:${action}:${hash(batch).slice(0, 24)}`;
      const reason = action === 'hold' ? `${PRICE_GAP_HOLD}: the Kuaishou price differs from the partner's by more than 10%` : `${PRICE_GAP_HOLD} resolved`;
      if (onPlatform) await platform.holdListings(shopId, { action, partner: binding.platform, storeId: binding.storeId, productIds: batch, reason }, key);
      if (action === 'hold') await risks.setHeld(binding.id, batch, reason);
      else await risks.setReleased(binding.id, batch);
      changed += batch.length;
    }
    return changed;
  }

  /** Opens the case of each finding that has none yet; a refusal is recorded on the finding, not retried. */
  async function openCases(findings: FindingRow[], at: Date): Promise<number> {
    let opened = 0;
    for (const f of findings) {
      const type = CASE_TYPE[f.kind];
      if (!type || f.case_id !== null || f.case_refused !== null) continue;
      if (!temporal) throw ApplicationFailure.nonRetryable('the risk checks need a Temporal client to open cases', ErrorType.RecordNotFound);
      try {
        const result = await openViolationCase(
          { db, temporal, taskQueue: taskQueue ?? Context.current().info.taskQueue },
          {
            merchantId: f.merchant_id,
            shopId: f.shop_id,
            type,
            reportedLevel: 'general',
            evidence: evidenceOf(f),
            openedBy: OPENED_BY,
            reference: f.key,
            // The finding as first recorded: a retry sends the same request whatever changed since.
            fingerprint: hash({ key: f.key, kind: f.kind, details: f.details }),
          },
          at,
        );
        await risks.setCase(f.key, result.caseId);
        if (!result.replayed) opened += 1;
      } catch (err) {
        if (!(err instanceof ViolationNotOpened)) throw err;
        await risks.setCaseRefused(f.key, err.reason, at);
      }
    }
    return opened;
  }

  /** A fix made while the case is undecided goes to the case as evidence for the reviewer. */
  async function attachFixes(bindingId: string, productIds: string[], at: Date): Promise<void> {
    for (const f of await risks.fixesToAttach(bindingId, productIds)) {
      await cases.recordEvent(f.case_id!, { type: 'finding_fixed', actor: OPENED_BY, at, details: { findingKey: f.key, kind: f.kind, day: f.day, found: f.details, fixedAt: at.toISOString() } });
      await risks.setAttached(f.key, at);
    }
  }

  async function scanStore({ bindingId, syncRunId, asOf }: RiskScanInput, beat: (details: unknown) => void): Promise<RiskScanSummary> {
      const at = new Date(asOf);
      const day = shanghaiDate(at);
      const binding = await db('store_bindings').where({ id: bindingId }).first<{ id: string; merchant_id: string; shop_id: string; platform: PartnerPlatform; store_id: string } | undefined>();
      if (!binding) throw ApplicationFailure.nonRetryable(`store binding ${bindingId} is not recorded`, ErrorType.RecordNotFound);
      const owner = { id: binding.id, merchantId: binding.merchant_id, shopId: binding.shop_id };
      const where = { id: binding.id, platform: binding.platform, storeId: binding.store_id };

      const summary: RiskScanSummary = { scanned: 0, findings: {}, casesOpened: 0, held: 0, released: 0 };
      // Findings whose case ended are closed (a relapse opens a new one); findings a stopped scan
      // left without their case get it now, whether or not their product is scanned again.
      await risks.closeEnded(bindingId, at);
      for (let afterKey: string | null = null; ; ) {
        const caseless = await risks.caselessPage(bindingId, afterKey, PAGE);
        if (caseless.length === 0) break;
        afterKey = caseless.at(-1)!.key;
        summary.casesOpened += await openCases(caseless, at);
        beat({ afterKey });
      }

      await risks.recordObservations(bindingId, syncRunId, day, at);
      // The words come folded (domain/catalogue-risks.ts foldWords), once for the whole scan.
      const list = await bannedWordList();
      const window = referenceWindow(day);

      const changedSince = changedSinceDay(day);

      let after: string | null = null;
      for (;;) {
        const products = await risks.productsToJudge(bindingId, syncRunId, list.version, changedSince, after, PAGE);
        if (products.length === 0) break;
        after = products.at(-1)!.productId;
        const ids = products.map((p) => p.productId);
        const history = new Map<string, readonly number[]>();
        for (const [productId, h] of await risks.priceHistory(bindingId, ids, window.from, window.to)) history.set(productId, dailyPricesInWindow(h.observations, window, h.stood));
        const judged = judge(bindingId, day, products, history, await risks.openFindings(bindingId, ids), list);

        summary.scanned += products.length;
        for (const f of judged.found) summary.findings[f.kind] = (summary.findings[f.kind] ?? 0) + 1;
        await risks.setFixed(judged.fixed, at);
        await risks.recordFindings(owner, day, syncRunId, at, judged.found);
        summary.held += await holdOrRelease(binding.shop_id, where, syncRunId, 'hold', judged.hold, true);
        summary.held += await holdOrRelease(binding.shop_id, where, syncRunId, 'hold', judged.holdUnlisted, false);
        summary.released += await holdOrRelease(binding.shop_id, where, syncRunId, 'release', judged.release, true);
        summary.released += await holdOrRelease(binding.shop_id, where, syncRunId, 'release', judged.releaseUnlisted, false);
        summary.casesOpened += await openCases(await risks.openFindings(bindingId, ids), at);
        await attachFixes(bindingId, ids, at);
        await risks.markJudged(bindingId, ids, list.version, day);
        beat({ after });
        // A short page was the last: each of its sources had fewer left than a page.
        if (products.length < PAGE) break;
      }
      return summary;
  }

  return {
    async scanCatalogueRisks(input: RiskScanInput): Promise<RiskScanSummary> {
      const heartbeat = scanHeartbeat<unknown>();
      try {
        return await scanStore(input, (details) => heartbeat.progress(details));
      } finally {
        heartbeat.stop();
      }
    },

    /**
     * The scans of a batch's synced stores in one activity, one after another: a round of a
     * thousand stores schedules fifty activities, not a thousand, and leaves the worker's
     * slots and the machine's cores to the syncs the next batch waits for (scanning four at a
     * time made the 100k round of npm run bench:sync slower, 9.5-10.0 s against 7.6-8.3 s).
     * Each store's summary is heartbeated as it ends, so a retried attempt scans only the
     * stores left (a scan is safe to repeat anyway).
     */
    async scanCatalogueRisksOfStores({ bindingIds, syncRunId, asOf }: StoresRiskScanInput): Promise<StoreRiskScan[]> {
      const heartbeat = scanHeartbeat<StoresScanProgress>();
      const progress: StoresScanProgress = heartbeat.resumed ?? { done: [] };
      try {
        for (const bindingId of bindingIds) {
          if (progress.done.some((d) => d.bindingId === bindingId)) continue;
          const summary = await scanStore({ bindingId, syncRunId, asOf }, () => heartbeat.progress(progress));
          progress.done.push({ bindingId, summary });
          heartbeat.progress(progress);
        }
        return bindingIds.map((bindingId) => progress.done.find((d) => d.bindingId === bindingId)!);
      } finally {
        heartbeat.stop();
      }
    },
  };
}

/** A batch's synced stores to scan, in order, after the sync run `syncRunId`. */
export interface StoresRiskScanInput {
  bindingIds: string[];
  syncRunId: string;
  asOf: string;
}

export interface StoreRiskScan {
  bindingId: string;
  summary: RiskScanSummary;
}

/** A batch scan's heartbeat: the stores scanned so far. */
interface StoresScanProgress {
  done: StoreRiskScan[];
}

export type CatalogueRiskActivities = ReturnType<typeof createCatalogueRiskActivities>;
