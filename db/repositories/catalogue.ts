import type { Knex } from 'knex';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

export const MAPPING_LIST_ORDER: readonly SortKey[] = [{ sql: "m.partner_platform || ':' || m.partner_category || ':' || lpad(m.version::text, 10, '0')", type: 'text', direction: 'asc' }];
export const RUN_LIST_ORDER: readonly SortKey[] = [
  { sql: 'r.started_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'r.id', type: 'text', direction: 'desc' },
];
export const STORE_RESULT_ORDER: readonly SortKey[] = [{ sql: 's.binding_id', type: 'text', direction: 'asc' }];
export const PRODUCT_ORDER: readonly SortKey[] = [{ sql: 'p.product_id', type: 'text', direction: 'asc' }];

export interface MappingRow {
  partner_platform: string;
  partner_category: string;
  version: number;
  ks_category: string | null;
  required_attributes: string[];
  special_class: string;
  changed_by: string;
  changed_at: Date;
}

/** A run's check failures by class, summed over its stores' rows. */
const failuresOfRun = `(SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
  SELECT e.key AS k, sum(e.value::int)::int AS n FROM catalogue_sync_stores s, jsonb_each_text(s.failed_by_class) e WHERE s.run_id = r.id GROUP BY e.key) x)`;

/** The catalogue's reads for the API, and the mapping table's one write. */
export function createCatalogueRepository(db: Knex) {
  return {
    /** A new version of the category's mapping: one more than the last. A concurrent change of the same category loses on the key. */
    async addMappingVersion(m: Omit<MappingRow, 'version' | 'changed_at'>, trx: Knex = db): Promise<MappingRow> {
      const result = await trx.raw(
        `INSERT INTO category_mappings (partner_platform, partner_category, version, ks_category, required_attributes, special_class, changed_by)
         SELECT ?, ?, coalesce(max(version), 0) + 1, ?, ?::jsonb, ?, ? FROM category_mappings WHERE partner_platform = ? AND partner_category = ?
         RETURNING *`,
        [m.partner_platform, m.partner_category, m.ks_category, JSON.stringify(m.required_attributes), m.special_class, m.changed_by, m.partner_platform, m.partner_category],
      );
      return (result.rows as MappingRow[])[0]!;
    },

    async mappings(filter: { platform?: string; history: boolean }, after: Position | undefined, limit: number): Promise<KeysetPage<MappingRow>> {
      const source: Knex.QueryBuilder = filter.history
        ? db('category_mappings as m')
        : db.from(db.raw('(SELECT DISTINCT ON (partner_platform, partner_category) * FROM category_mappings ORDER BY partner_platform, partner_category, version DESC) AS m'));
      const q = source.select('m.*');
      if (filter.platform) void q.where('m.partner_platform', filter.platform);
      return keysetPage<MappingRow>(db, q, MAPPING_LIST_ORDER, after, limit);
    },

    async runs(after: Position | undefined, limit: number) {
      const q = db('catalogue_sync_runs as r').select('r.*', db.raw(`${failuresOfRun} AS failed_by_class`));
      return keysetPage<Record<string, unknown>>(db, q, RUN_LIST_ORDER, after, limit);
    },

    async runExists(runId: string): Promise<boolean> {
      return !!(await db('catalogue_sync_runs').where({ id: runId }).first('id'));
    },

    async storeResults(runId: string, after: Position | undefined, limit: number) {
      return keysetPage<Record<string, unknown>>(db, db('catalogue_sync_stores as s').where('s.run_id', runId).select('s.*'), STORE_RESULT_ORDER, after, limit);
    },

    async binding(bindingId: string): Promise<{ id: string; merchant_id: string } | undefined> {
      return db('store_bindings').where({ id: bindingId }).first('id', 'merchant_id');
    },

    /** A page of the binding's products, each with the failures the run that last wrote it recorded. */
    async products(bindingId: string, after: Position | undefined, limit: number) {
      const page = await keysetPage<Record<string, unknown>>(db, db('catalogue_products as p').where('p.binding_id', bindingId).select('p.*'), PRODUCT_ORDER, after, limit);
      const failures = page.rows.length
        ? await db('catalogue_check_failures as f')
            .join('catalogue_products as p', function () {
              this.on('p.binding_id', 'f.binding_id').andOn('p.product_id', 'f.product_id').andOn('p.last_sync_run_id', 'f.run_id');
            })
            .where('f.binding_id', bindingId)
            .whereIn(
              'f.product_id',
              page.rows.map((r) => r.product_id as string),
            )
            .orderBy('f.id')
            .select<Array<{ product_id: string; class: string; reason: string; fix: string }>>('f.product_id', 'f.class', 'f.reason', 'f.fix')
        : [];
      return { page, failures };
    },
  };
}

export type CatalogueRepository = ReturnType<typeof createCatalogueRepository>;
