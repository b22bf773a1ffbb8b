import type { Knex } from 'knex';

/**
 * The order import from the platform's order feed: one cursor per feed (the last seq
 * imported, advanced in the same transaction as the orders of its page), and on each
 * order the seq of the event that wrote it, so an older or repeated event never
 * overwrites a newer state. Orders written by other means (the seed script) have none.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('order_feed_cursors', (t) => {
    t.text('feed').primary();
    t.bigInteger('last_seq').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check('last_seq >= 0', [], 'order_feed_cursors_last_seq_check');
  });
  // Nullable without a default: PostgreSQL adds it without rewriting a 10M-row table.
  await db.schema.alterTable('orders', (t) => {
    t.bigInteger('feed_seq');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('orders', (t) => {
    t.dropColumn('feed_seq');
  });
  await db.schema.dropTableIfExists('order_feed_cursors');
}
