import type { Knex } from 'knex';

/**
 * Link windows and the outside links they allow (docs/rules.md §5.2).
 *
 * `link_windows`: one row per window (partner, link kind), its process's id and where it
 * stands (`status`: scheduled, open, closing, closed, cancelled). Its dates live in
 * `link_window_versions`, append-only: a change is a new version with its source (the
 * announcement's words) and who made it. Its `state` says whether the window's process runs
 * on it: `pending` (written, not yet taken by the process; counts for overlaps, as it may
 * be), `applied` (recorded by the process itself when it took it) or `refused` (the process
 * answered no). `current_version` names the latest applied one: the dates in force.
 *
 * `partner_links`: a merchant's outside product link for one of its bound stores
 * (store_bindings), with its life on the platform (`status`):
 * - `listed`: accepted inside an open window, waiting for the window's process to publish it;
 * - `live`: on the platform, under `window_id`;
 * - `down`: taken down; `taken_down_by` names the window (`link-window:<id>`) and
 *   `take_down_key` the platform call that did it;
 * - `refused`: the platform refused to publish it (`refusal`).
 * - `publishing` / `taking_down`: claimed for one platform call before it is made, with the
 *   call's idempotency key (`claim_key`) and who makes it (`claimed_by`): a retry re-sends
 *   exactly that group under that key first, and nothing else can change the rows meanwhile.
 * A take-down the platform refused leaves the link `live` with `failed_action = 'take_down'`,
 * its `refusal` and `refusals` counted (the next attempt's key differs); its window waits for
 * ops in needs_attention, for a live link must come down.
 * One link per (binding, kind, product) that is not down or refused.
 *
 * `partner_link_actions`: every link a platform call put live or took down, once per (link,
 * key): the exactly-once audit trail and each window's own counts.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('link_windows', (t) => {
    t.text('id').primary();
    t.text('partner').notNullable();
    t.text('link_kind').notNullable();
    t.text('status').notNullable();
    t.integer('current_version').notNullable();
    t.text('workflow_id').notNullable();
    t.text('run_id');
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check(`partner IN ('taobao', 'tmall', 'youzan', 'jd', 'pinduoduo')`, [], 'link_windows_partner_check');
    t.check(`link_kind IN ('union_product', 'short_video_live', 'self_operated')`, [], 'link_windows_kind_check');
    t.check(`status IN ('scheduled', 'open', 'closing', 'closed', 'cancelled')`, [], 'link_windows_status_check');
    t.index(['partner', 'link_kind', 'status'], 'link_windows_partner_kind_idx');
  });

  await db.schema.createTable('link_window_versions', (t) => {
    t.text('window_id').notNullable().references('link_windows.id');
    t.integer('version').notNullable();
    t.date('opens_on').notNullable();
    t.date('closes_on');
    t.jsonb('phases').notNullable().defaultTo('[]');
    t.text('source').notNullable();
    t.text('changed_by').notNullable();
    t.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('state').notNullable().defaultTo('applied');
    t.timestamp('applied_at', { useTz: true });
    t.primary(['window_id', 'version']);
    t.check(`state IN ('pending', 'applied', 'refused')`, [], 'link_window_versions_state_check');
    t.check('closes_on IS NULL OR closes_on >= opens_on', [], 'link_window_versions_dates_check');
    t.check('version >= 1', [], 'link_window_versions_version_check');
  });

  await db.schema.createTable('partner_links', (t) => {
    t.text('id').primary();
    t.text('binding_id').notNullable().references('store_bindings.id');
    t.text('merchant_id').notNullable().references('merchants.id');
    t.text('shop_id').notNullable().references('shops.id');
    t.text('platform').notNullable();
    t.text('store_id').notNullable();
    t.text('link_kind').notNullable();
    t.text('product_id').notNullable();
    t.text('url').notNullable();
    t.text('status').notNullable();
    t.text('listed_by').notNullable();
    t.timestamp('listed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('window_id').references('link_windows.id');
    t.timestamp('published_at', { useTz: true });
    t.text('publish_key');
    t.timestamp('taken_down_at', { useTz: true });
    t.text('taken_down_by');
    t.text('take_down_key');
    t.text('failed_action');
    t.text('refusal');
    t.integer('refusals').notNullable().defaultTo(0);
    t.text('claim_key');
    t.text('claimed_by');
    t.check(`platform IN ('taobao', 'tmall', 'youzan', 'jd', 'pinduoduo')`, [], 'partner_links_platform_check');
    t.check(`link_kind IN ('union_product', 'short_video_live', 'self_operated')`, [], 'partner_links_kind_check');
    t.check(`status IN ('listed', 'publishing', 'live', 'taking_down', 'down', 'refused')`, [], 'partner_links_status_check');
    t.check(`failed_action IS NULL OR failed_action IN ('publish', 'take_down')`, [], 'partner_links_failed_action_check');
    t.index(['merchant_id', 'listed_at', 'id'], 'partner_links_merchant_idx');
    t.index(['window_id', 'status'], 'partner_links_window_idx');
    t.index(['platform', 'link_kind', 'status'], 'partner_links_kind_status_idx');
    t.index(['claimed_by', 'claim_key'], 'partner_links_claim_idx');
    t.check(`(claim_key IS NULL) = (status NOT IN ('publishing', 'taking_down'))`, [], 'partner_links_claim_check');
  });
  await db.raw(`CREATE UNIQUE INDEX partner_links_one_current ON partner_links (binding_id, link_kind, product_id) WHERE status IN ('listed', 'publishing', 'live', 'taking_down')`);

  await db.schema.createTable('partner_link_actions', (t) => {
    t.text('link_id').notNullable().references('partner_links.id');
    t.text('action').notNullable();
    t.text('key').notNullable();
    t.text('actor').notNullable();
    t.text('window_id').references('link_windows.id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['link_id', 'key']);
    t.check(`action IN ('publish', 'take_down')`, [], 'partner_link_actions_action_check');
    t.index(['window_id', 'action'], 'partner_link_actions_window_idx');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('partner_link_actions');
  await db.schema.dropTable('partner_links');
  await db.schema.dropTable('link_window_versions');
  await db.schema.dropTable('link_windows');
}
