import type { Knex } from 'knex';

/**
 * Partner stores bound to a Kuaishou shop (docs/rules.md §5.1), one row per binding process
 * (`binding:<platform>:<storeId>`), and the partner secrets those processes fetch by reference.
 *
 * `store_bindings.status`:
 * - `authorising`: started, waiting for the union authorisation or the OAuth callback;
 * - `bound`: the store is bound; its sync runs (`sync_enabled`);
 * - `needs_reauth`: a token refresh was refused or failed for good: sync stops until the
 *   merchant authorises again;
 * - `unbound`: ended by the merchant or by enforcement (`closed_for_good`: a qualification
 *   violation closed the shop's API permission; the row stays unbound for good, and no new
 *   binding is recorded while `disable_api` holds the shop; once lifted, binding is allowed);
 * - `refused`: a precondition or check failed; the refusal's name is in `refusal`.
 * A store is bound to one shop at a time: one live row per (platform, store_id).
 *
 * `partner_secrets` holds access and refresh tokens sealed with PARTNER_SECRETS_KEY
 * (AES-256-GCM), and the authorisation code of an OAuth callback until it is exchanged;
 * workflows and logs see only the row's id.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('store_bindings', (t) => {
    t.text('id').primary();
    t.text('merchant_id').notNullable().references('merchants.id');
    t.text('shop_id').notNullable().references('shops.id');
    t.text('platform').notNullable();
    t.text('store_id').notNullable();
    t.text('status').notNullable();
    /** `binding:<platform>:<storeId>`: one process per store at a time; a store bound again later gets a new row. */
    t.text('workflow_id').notNullable();
    t.text('run_id');
    t.text('refusal');
    /** Taobao / Tmall / Pinduoduo: the promotion position; JD: the union id. */
    t.text('pid');
    t.text('union_id');
    t.text('permission_level');
    t.timestamp('access_expires_at', { useTz: true });
    t.timestamp('refresh_expires_at', { useTz: true });
    t.boolean('sync_enabled').notNullable().defaultTo(false);
    t.boolean('closed_for_good').notNullable().defaultTo(false);
    t.text('requested_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('bound_at', { useTz: true });
    t.timestamp('unbound_at', { useTz: true });
    t.text('unbound_by');
    t.text('unbound_reason');
    t.check(`platform IN ('taobao', 'tmall', 'youzan', 'jd', 'pinduoduo')`, [], 'store_bindings_platform_check');
    t.check(`status IN ('authorising', 'bound', 'needs_reauth', 'unbound', 'refused')`, [], 'store_bindings_status_check');
    t.check(`permission_level IS NULL OR permission_level IN ('basic', 'advanced', 'custom')`, [], 'store_bindings_level_check');
    t.index(['merchant_id', 'id'], 'store_bindings_merchant_idx');
    t.index(['platform', 'status'], 'store_bindings_platform_status_idx');
  });
  await db.raw(`CREATE UNIQUE INDEX store_bindings_one_live ON store_bindings (platform, store_id) WHERE status IN ('authorising', 'bound', 'needs_reauth')`);

  await db.schema.createTable('partner_secrets', (t) => {
    t.text('id').primary();
    t.text('binding_id').notNullable().references('store_bindings.id');
    t.text('kind').notNullable();
    t.text('cipher').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    /** Set when a refresh replaced it or the binding ended; the cipher is then wiped. */
    t.timestamp('retired_at', { useTz: true });
    t.check(`kind IN ('access_token', 'refresh_token', 'authorisation_code')`, [], 'partner_secrets_kind_check');
    t.index(['binding_id'], 'partner_secrets_binding_idx');
  });

  // The OAuth `state` of a Youzan authorisation: an unguessable nonce, kept only as its
  // SHA-256, bound to one binding, good once and for a short while.
  await db.schema.createTable('binding_oauth_states', (t) => {
    t.text('state_hash').primary();
    t.text('binding_id').notNullable().references('store_bindings.id');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['binding_id'], 'binding_oauth_states_binding_idx');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('binding_oauth_states');
  await db.schema.dropTable('partner_secrets');
  await db.schema.dropTable('store_bindings');
}
