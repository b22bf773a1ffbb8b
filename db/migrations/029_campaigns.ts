import type { Knex } from 'knex';

/**
 * Campaigns (docs/rules.md §5.5): a bulk action over a list of targets, with a result per item.
 *
 * `campaigns`: one row per campaign, its kind, reason, who started it, its state (`running`,
 * `paused`, `completed`, `cancelled`), its pace in platform calls per minute, the counts of its
 * items by result (kept in the transaction that settles each item) and, once ended, its
 * summary. `page` / `page_calls` count the calls the current page made (written before each
 * call, so a page retried after a crash knows what its dead attempt already sent).
 *
 * `campaign_items`: the list, in the database and never in workflow history (a campaign may
 * hold 50,000 targets). `position` is the item's place in the list (1-based) and part of its
 * platform key; the target is a shop (close), a shop and up to 200 products (delist) or a
 * streamer and the merchant whose goods the warning is about (warn). `state` is `pending`
 * until settled `done`, `refused` (the platform refused the target: `reason`) or `failed`
 * (transient failures used up its tries: `reason`).
 *
 * `shop_restrictions.source` gains `campaign:<id>`: a campaign that closes a shop holds its
 * restrictions under its own source, so the deposit ladder lifting its own never reopens it.
 */
const SOURCE_CHECK = 'shop_restrictions_source_check';
const ADDED = ` OR (source ~~ 'campaign:%'::text)`;

async function definitionOf(db: Knex, name: string): Promise<string> {
  const { rows } = (await db.raw('SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = ?', [name])) as { rows: Array<{ def: string }> };
  if (!rows[0]) throw new Error(`constraint ${name} is missing`);
  return rows[0].def.replace(/^CHECK \((.*)\)$/s, '$1');
}

async function replaceSourceCheck(db: Knex, expression: string): Promise<void> {
  await db.raw(`ALTER TABLE shop_restrictions DROP CONSTRAINT ${SOURCE_CHECK}`);
  await db.raw(`ALTER TABLE shop_restrictions ADD CONSTRAINT ${SOURCE_CHECK} CHECK (${expression})`);
}

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('campaigns', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    t.text('reason').notNullable();
    t.text('created_by').notNullable();
    t.text('workflow_id').notNullable().unique();
    t.text('state').notNullable().defaultTo('running');
    t.integer('rate_per_minute').notNullable();
    t.integer('total').notNullable();
    t.integer('done').notNullable().defaultTo(0);
    t.integer('refused').notNullable().defaultTo(0);
    t.integer('failed').notNullable().defaultTo(0);
    t.bigInteger('page').notNullable().defaultTo(0);
    t.integer('page_calls').notNullable().defaultTo(0);
    t.text('state_changed_by');
    t.text('state_reason');
    t.jsonb('summary');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.check(`kind IN ('close_shops', 'delist_products', 'warn_streamers')`, [], 'campaigns_kind_check');
    t.check(`state IN ('running', 'paused', 'completed', 'cancelled')`, [], 'campaigns_state_check');
    t.check('rate_per_minute BETWEEN 1 AND 6000', [], 'campaigns_rate_check');
    t.check('total BETWEEN 1 AND 50000 AND done + refused + failed <= total', [], 'campaigns_counts_check');
    t.check(`(state IN ('completed', 'cancelled')) = (finished_at IS NOT NULL)`, [], 'campaigns_finished_check');
    t.index(['created_at', 'id'], 'campaigns_list_idx');
  });

  await db.schema.createTable('campaign_items', (t) => {
    t.text('campaign_id').notNullable().references('campaigns.id');
    t.integer('position').notNullable();
    t.text('shop_id');
    t.specificType('product_ids', 'text[]');
    t.text('streamer_id');
    t.text('merchant_id');
    t.text('state').notNullable().defaultTo('pending');
    t.jsonb('result');
    t.text('reason');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('finished_at', { useTz: true });
    t.primary(['campaign_id', 'position']);
    t.check(`state IN ('pending', 'done', 'refused', 'failed')`, [], 'campaign_items_state_check');
    t.check('position >= 1', [], 'campaign_items_position_check');
    t.check(`(state = 'pending') = (finished_at IS NULL)`, [], 'campaign_items_finished_check');
    t.check(`(state IN ('refused', 'failed')) = (reason IS NOT NULL)`, [], 'campaign_items_reason_check');
    t.check('(shop_id IS NULL) <> (streamer_id IS NULL) AND (streamer_id IS NULL) = (merchant_id IS NULL)', [], 'campaign_items_target_check');
    t.check('product_ids IS NULL OR (shop_id IS NOT NULL AND cardinality(product_ids) BETWEEN 1 AND 200)', [], 'campaign_items_products_check');
    // Per state in list order: the next pending page, and ops' list of refused or failed items.
    t.index(['campaign_id', 'state', 'position'], 'campaign_items_state_idx');
  });

  await replaceSourceCheck(db, `(${await definitionOf(db, SOURCE_CHECK)})${ADDED}`);
}

export async function down(db: Knex): Promise<void> {
  await db('shop_restrictions').whereLike('source', 'campaign:%').delete();
  const current = await definitionOf(db, SOURCE_CHECK);
  if (!current.includes(ADDED)) throw new Error(`029_campaigns: ${SOURCE_CHECK} was changed since: ${current}`);
  await replaceSourceCheck(db, current.replace(ADDED, ''));
  await db.schema.dropTableIfExists('campaign_items');
  await db.schema.dropTableIfExists('campaigns');
}
