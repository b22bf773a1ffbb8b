import type { Knex } from 'knex';
import { sqlStateOf } from '../../activities/database-failures';
import { createCatalogueRepository, MAPPING_LIST_ORDER, PRODUCT_ORDER, RUN_LIST_ORDER, STORE_RESULT_ORDER, type MappingRow } from '../../db/repositories/catalogue';
import { mayActFor, type Principal } from '../auth';
import { conflict, notFound } from '../errors';
import { pageThrough } from '../pagination';
import type { MappingBody, MappingListQuery, ProductListQuery, RunListQuery } from './schemas';

const iso = (d: unknown): string | null => (d instanceof Date ? d.toISOString() : d === null || d === undefined ? null : String(d));

const mappingOf = (m: MappingRow) => ({
  partnerPlatform: m.partner_platform,
  partnerCategory: m.partner_category,
  version: m.version,
  ksCategory: m.ks_category,
  requiredAttributes: m.required_attributes,
  specialClass: m.special_class,
  changedBy: m.changed_by,
  changedAt: iso(m.changed_at)!,
});

const countsOf = (r: Record<string, unknown>) => ({
  fetched: r.fetched,
  inserted: r.inserted,
  updated: r.updated,
  unchanged: r.unchanged,
  gone: r.gone,
  listed: r.listed,
  tagsDropped: r.tags_dropped,
  failedByClass: r.failed_by_class,
});

/** Category mappings (ops keep them, versioned), sync runs and their stores, a binding's products. */
export function createCatalogueService({ db }: { db: Knex }) {
  const repo = createCatalogueRepository(db);
  return {
    async addMapping(body: MappingBody, principal: Principal) {
      try {
        const row = await repo.addMappingVersion({
          partner_platform: body.partnerPlatform,
          partner_category: body.partnerCategory,
          ks_category: body.ksCategory,
          required_attributes: body.requiredAttributes,
          special_class: body.specialClass,
          changed_by: principal.sub,
        });
        return mappingOf(row);
      } catch (err) {
        if (sqlStateOf(err) === '23505') throw conflict(`the mapping of ${body.partnerPlatform} category ${body.partnerCategory} changed at the same time: read it and send the change again`);
        throw err;
      }
    },

    async listMappings({ partnerPlatform, history, cursor, limit }: MappingListQuery) {
      const filters = { partnerPlatform, history: history ?? false };
      return pageThrough({ list: 'category-mappings', filters }, MAPPING_LIST_ORDER, { cursor, limit }, (after, n) => repo.mappings({ platform: partnerPlatform, history: history ?? false }, after, n), mappingOf);
    },

    async listRuns({ cursor, limit }: RunListQuery) {
      return pageThrough({ list: 'catalogue-sync-runs', filters: {} }, RUN_LIST_ORDER, { cursor, limit }, (after, n) => repo.runs(after, n), (r) => ({
        runId: r.id,
        kind: r.kind,
        startedBy: r.started_by,
        startedAt: iso(r.started_at),
        finishedAt: iso(r.finished_at),
        storesDone: r.stores_done,
        storesSkipped: r.stores_skipped,
        storesFailed: r.stores_failed,
        failedByClass: r.failed_by_class,
      }));
    },

    async listStores(runId: string, { cursor, limit }: RunListQuery) {
      if (!(await repo.runExists(runId))) throw notFound(`catalogue sync run ${runId} does not exist`);
      return pageThrough({ list: 'catalogue-sync-stores', filters: { runId } }, STORE_RESULT_ORDER, { cursor, limit }, (after, n) => repo.storeResults(runId, after, n), (r) => ({
        bindingId: r.binding_id,
        status: r.status,
        reason: r.reason,
        ...countsOf(r),
      }));
    },

    /** A merchant sees its own bindings' products only; another's is answered as a binding that does not exist. */
    async listProducts(bindingId: string, { cursor, limit }: ProductListQuery, principal: Principal) {
      const binding = await repo.binding(bindingId);
      if (!binding || !mayActFor(principal, binding.merchant_id)) throw notFound(`binding ${bindingId} does not exist`);
      let failures: Array<{ product_id: string; class: string; reason: string; fix: string }> = [];
      const result = await pageThrough({ list: 'binding-products', filters: { bindingId } }, PRODUCT_ORDER, { cursor, limit }, async (after, n) => {
        const read = await repo.products(bindingId, after, n);
        failures = read.failures;
        return read.page;
      }, (p) => p);
      return {
        nextCursor: result.nextCursor,
        items: result.items.map((p) => ({
          productId: p.product_id,
          title: p.title,
          priceFen: Number(p.price_fen),
          channelPriceFen: Number(p.channel_price_fen),
          inventory: p.inventory,
          ksCategory: p.ks_category,
          detailUrl: p.detail_url,
          listingStatus: p.listing_status,
          holdReason: p.hold_reason,
          gone: p.gone_at !== null,
          failures: failures.filter((f) => f.product_id === p.product_id).map((f) => ({ class: f.class, reason: f.reason, fix: f.fix })),
        })),
      };
    },
  };
}

export type CatalogueService = ReturnType<typeof createCatalogueService>;
