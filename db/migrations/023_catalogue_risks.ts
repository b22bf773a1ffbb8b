import type { Knex } from 'knex';

/**
 * The absolute terms Article 9(3) of the Advertising Law of the PRC (中华人民共和国广告法, 2015,
 * amended 2021) forbids: "使用'国家级'、'最高级'、'最佳'等用语", as platforms' banned-word
 * libraries spell them out (source S1 names 最, 第一, 国家级). Words are matched as substrings,
 * so the bare 最 (which would match 最近, "recently") is listed as the absolute phrases built on
 * it. Stored folded (domain/catalogue-risks.ts foldForMatching). Version 1 of the list; ops add
 * words through the API, each addition a new version.
 */
export const BANNED_WORDS_V1 = [
  '最好',
  '最佳',
  '最高',
  '最高级',
  '最低价',
  '最先进',
  '最优',
  '最强',
  '最便宜',
  '第一',
  '唯一',
  '国家级',
  '世界级',
  '顶级',
  '极品',
  '首个',
  '首选',
  '独家',
  '万能',
  '100%',
  '绝对',
  '全网最低',
] as const;
export const BANNED_WORDS_V1_SOURCE = '中华人民共和国广告法 第九条第三项 (absolute terms); platform banned-word library (source S1)';

/**
 * The risk checks over the catalogue (docs/rules.md §5.3):
 * - catalogue_price_observations: a change log of a product's channel (and partner) price: a row
 *   only when the channel price differs from the product's latest row (or it has none), at most
 *   one a Shanghai day (the day's last change winning). A day's price is the latest row at or
 *   before it (carried forward); the fluctuation reference is read from it.
 * - banned_word_versions: the banned-word list as data, each version the words it added; the
 *   list at version n is every word of versions 1..n.
 * - risk_findings: what a scan found, under its deterministic key (product, kind, day), with
 *   the case it opened and whether it has since been fixed.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('catalogue_price_observations', (t) => {
    t.text('binding_id').notNullable().references('store_bindings.id');
    // Byte order, as catalogue_products.product_id: joined and paged with it on its index.
    t.specificType('product_id', 'text COLLATE "C"').notNullable();
    t.date('day').notNullable();
    t.bigInteger('channel_price_fen').notNullable();
    t.bigInteger('partner_price_fen').notNullable();
    t.timestamp('observed_at', { useTz: true }).notNullable();
    t.text('sync_run_id').notNullable();
    t.primary(['binding_id', 'product_id', 'day']);
    t.check('channel_price_fen >= 0 AND partner_price_fen >= 0', [], 'catalogue_price_observations_amounts_check');
    // The products whose price changed lately: the scan judges them again.
    t.index(['binding_id', 'day'], 'catalogue_price_observations_day_idx');
  });

  await db.schema.createTable('banned_word_versions', (t) => {
    t.integer('version').primary();
    t.jsonb('words_added').notNullable();
    t.text('added_by').notNullable();
    t.text('source').notNullable();
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check('version >= 1', [], 'banned_word_versions_version_check');
  });
  await db('banned_word_versions').insert({ version: 1, words_added: JSON.stringify(BANNED_WORDS_V1), added_by: 'system', source: BANNED_WORDS_V1_SOURCE });

  await db.schema.createTable('risk_findings', (t) => {
    /** `risk:<bindingId>:<productId>:<kind>:<YYYY-MM-DD>` (domain/catalogue-risks.ts findingKey). */
    t.text('key').primary();
    t.text('binding_id').notNullable().references('store_bindings.id');
    // Byte order, as catalogue_products.product_id: joined and paged with it on its index.
    t.specificType('product_id', 'text COLLATE "C"').notNullable();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.text('kind').notNullable();
    t.date('day').notNullable();
    t.jsonb('details').notNullable();
    t.text('sync_run_id').notNullable();
    /** The case the finding opened (none for a price gap: it holds the listing instead). */
    t.text('case_id');
    /** Why the case could not be opened (ViolationNotOpened's reason): recorded, not retried. */
    t.text('case_refused');
    /**
     * open: stands (and blocks a new finding of its kind for the product); fixed: no longer found;
     * closed: its case ended (expired, reversed) or was refused, so a relapse is a new finding.
     */
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('found_at', { useTz: true }).notNullable();
    t.timestamp('fixed_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    /** When the fix was attached to the undecided case as evidence for the reviewer. */
    t.timestamp('attached_to_case_at', { useTz: true });
    t.check(`kind IN ('price_gap', 'price_fluctuation', 'banned_words')`, [], 'risk_findings_kind_check');
    t.check(`status IN ('open', 'fixed', 'closed')`, [], 'risk_findings_status_check');
    t.check(`(status = 'fixed') = (fixed_at IS NOT NULL)`, [], 'risk_findings_fixed_check');
    t.check(`(status = 'closed') = (closed_at IS NOT NULL)`, [], 'risk_findings_closed_check');
    t.index(['binding_id', 'product_id'], 'risk_findings_product_idx');
    t.index(['found_at', 'key'], 'risk_findings_list_idx');
    t.index(['shop_id', 'found_at'], 'risk_findings_shop_idx');
  });
  // The sweep for findings still waiting for their case (a crash between recording and opening).
  await db.raw(`CREATE INDEX risk_findings_caseless_idx ON risk_findings (binding_id, key) WHERE status = 'open' AND case_id IS NULL AND case_refused IS NULL`);

  // A listing held for a price gap goes back to the status it had (a pending product stays unlisted).
  await db.schema.alterTable('catalogue_products', (t) => {
    t.text('held_from_status');
    // The banned-word list version the product was last judged under: a newer list judges it again.
    t.integer('risk_list_version');
    // The Shanghai day it was last judged: a closed finding (its case refused or ended) of that
    // day or later may relapse under a later day's key, so the product is judged again then.
    t.date('risk_judged_on');
    t.index(['binding_id', 'risk_list_version'], 'catalogue_products_risk_list_idx');
  });
  // One open finding per product and kind: while it stands, a later day's scan finds nothing new.
  await db.raw(`CREATE UNIQUE INDEX risk_findings_open_idx ON risk_findings (binding_id, product_id, kind) WHERE status = 'open'`);
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('catalogue_products', (t) => {
    t.dropIndex(['binding_id', 'risk_list_version'], 'catalogue_products_risk_list_idx');
    t.dropColumn('risk_list_version');
    t.dropColumn('risk_judged_on');
    t.dropColumn('held_from_status');
  });
  await db.schema.dropTable('risk_findings');
  await db.schema.dropTable('banned_word_versions');
  await db.schema.dropTable('catalogue_price_observations');
}
