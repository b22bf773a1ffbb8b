import type { Knex } from 'knex';

/**
 * The catalogue of bound stores as merchant-ops keeps it (docs/rules.md §5.3): one row per
 * product of a binding, written set-based by the catalogue sync (a page of the partner's products
 * diffed against these rows by `content_hash`), read by the risk checks.
 *
 * `listing_status`: `pending` (not yet on Kuaishou), `listed`, `failed` (a product check failed:
 * its class and reason are in the sync's failures), `held` (a risk flag holds it off sale:
 * `hold_reason`).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('catalogue_products', (t) => {
    t.text('binding_id').notNullable().references('store_bindings.id');
    // Byte order, as the partners page products: a page's id range is then a range of the key's index.
    t.specificType('product_id', 'text COLLATE "C"').notNullable();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.text('platform').notNullable();
    t.text('store_id').notNullable();
    t.text('title').notNullable();
    t.text('description').notNullable();
    t.text('category').notNullable();
    /** The Kuaishou category the mapping gave it; null while unmapped. */
    t.text('ks_category');
    t.bigInteger('price_fen').notNullable();
    /** The price the store gives the Kuaishou channel: what the listing shows. */
    t.bigInteger('channel_price_fen').notNullable();
    t.integer('inventory').notNullable();
    t.boolean('presale').notNullable();
    t.text('presale_label');
    t.jsonb('promo_tags').notNullable();
    t.jsonb('attributes').notNullable();
    t.jsonb('images').notNullable();
    t.text('quality_report');
    t.text('filing_number');
    t.text('detail_url').notNullable();
    t.timestamp('partner_updated_at', { useTz: true }).notNullable();
    t.text('content_hash').notNullable();
    t.text('listing_status').notNullable().defaultTo('pending');
    t.text('hold_reason');
    t.text('last_sync_run_id');
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    /** Set when the partner no longer lists it. */
    t.timestamp('gone_at', { useTz: true });
    t.primary(['binding_id', 'product_id']);
    t.check(`listing_status IN ('pending', 'listed', 'failed', 'held')`, [], 'catalogue_products_listing_status_check');
    t.check('price_fen >= 0 AND channel_price_fen >= 0 AND inventory >= 0', [], 'catalogue_products_amounts_check');
    t.index(['last_sync_run_id'], 'catalogue_products_run_idx');
    t.index(['shop_id'], 'catalogue_products_shop_idx');
  });

  // One catalogue sync run: a pass of one kind over every bound store with sync on.
  await db.schema.createTable('catalogue_sync_runs', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    /** `schedule` or the ops user who started it by hand. */
    t.text('started_by').notNullable();
    t.text('workflow_id').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.integer('stores_done').notNullable().defaultTo(0);
    t.integer('stores_skipped').notNullable().defaultTo(0);
    t.integer('stores_failed').notNullable().defaultTo(0);
    t.check(`kind IN ('base', 'inventory', 'promo')`, [], 'catalogue_sync_runs_kind_check');
    t.index(['started_at', 'id'], 'catalogue_sync_runs_started_idx');
  });

  // What a run did for one store; written once, when the store is done.
  await db.schema.createTable('catalogue_sync_stores', (t) => {
    t.text('run_id').notNullable().references('catalogue_sync_runs.id');
    t.text('binding_id').notNullable().references('store_bindings.id');
    t.text('status').notNullable();
    /** Why a store was skipped or failed, e.g. `needs_reauth`, `partner_unavailable`. */
    t.text('reason');
    t.integer('fetched').notNullable().defaultTo(0);
    t.integer('inserted').notNullable().defaultTo(0);
    t.integer('updated').notNullable().defaultTo(0);
    t.integer('unchanged').notNullable().defaultTo(0);
    t.integer('gone').notNullable().defaultTo(0);
    t.integer('listed').notNullable().defaultTo(0);
    /** Unofficial promotion tags left out (not a failure). */
    t.integer('tags_dropped').notNullable().defaultTo(0);
    /** Check failures by class, e.g. {"category_unmapped": 3}. */
    t.jsonb('failed_by_class').notNullable().defaultTo('{}');
    t.timestamp('finished_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['run_id', 'binding_id']);
    t.check(`status IN ('synced', 'skipped', 'failed')`, [], 'catalogue_sync_stores_status_check');
  });

  // A product check that failed in a run: what is wrong and how to fix it.
  await db.schema.createTable('catalogue_check_failures', (t) => {
    t.bigIncrements('id');
    t.text('run_id').notNullable();
    t.text('binding_id').notNullable();
    t.text('product_id').notNullable();
    t.text('class').notNullable();
    t.text('reason').notNullable();
    t.text('fix').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['binding_id', 'product_id'], 'catalogue_check_failures_product_idx');
    t.index(['run_id', 'binding_id'], 'catalogue_check_failures_run_idx');
  });

  // Partner category → Kuaishou category, versioned: a change adds a version, none is rewritten.
  await db.schema.createTable('category_mappings', (t) => {
    t.text('partner_platform').notNullable();
    t.text('partner_category').notNullable();
    t.integer('version').notNullable();
    /** Null: the category is no longer mapped from this version on. */
    t.text('ks_category');
    t.jsonb('required_attributes').notNullable().defaultTo('[]');
    t.text('special_class').notNullable().defaultTo('none');
    t.text('changed_by').notNullable();
    t.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['partner_platform', 'partner_category', 'version']);
    t.check(`special_class IN ('beauty', 'food', 'cosmetics', 'none')`, [], 'category_mappings_special_check');
    t.check('version >= 1', [], 'category_mappings_version_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('category_mappings');
  await db.schema.dropTable('catalogue_check_failures');
  await db.schema.dropTable('catalogue_sync_stores');
  await db.schema.dropTable('catalogue_sync_runs');
  await db.schema.dropTable('catalogue_products');
}
