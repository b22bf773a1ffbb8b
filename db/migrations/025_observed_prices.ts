import type { Knex } from 'knex';

/**
 * The price a product had when the risk scan last recorded it (docs/rules.md §5.3).
 *
 * `catalogue_products.observed_channel_price_fen`: the channel price of the product's latest
 * observation as of the scan that last looked at it, kept on the product so that finding the
 * prices to record looks at the products whose price differs from it (a partial index holds only
 * those), not at every live product's latest observation on each run. NULL: not looked at yet.
 * The observations stay the record: a product is compared with its latest one before a row is
 * written.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('catalogue_products', (t) => {
    t.bigInteger('observed_channel_price_fen');
  });
  await db.raw(`
    UPDATE catalogue_products p SET observed_channel_price_fen = latest.channel_price_fen
      FROM (SELECT DISTINCT ON (binding_id, product_id) binding_id, product_id, channel_price_fen
              FROM catalogue_price_observations ORDER BY binding_id, product_id, day DESC) latest
     WHERE latest.binding_id = p.binding_id AND latest.product_id = p.product_id`);
  await db.raw(`
    CREATE INDEX catalogue_products_unobserved_idx ON catalogue_products (binding_id, product_id)
     WHERE gone_at IS NULL AND observed_channel_price_fen IS DISTINCT FROM channel_price_fen`);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP INDEX IF EXISTS catalogue_products_unobserved_idx');
  await db.schema.alterTable('catalogue_products', (t) => {
    t.dropColumn('observed_channel_price_fen');
  });
}
