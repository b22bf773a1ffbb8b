import type { Knex } from 'knex';

/**
 * After-sales tickets (docs/rules.md §5.4).
 *
 * `after_sales_agents`: the staff who handle tickets, by their token's subject, with the
 * order categories each handles; an inactive agent gets no new turn.
 *
 * `after_sales_rounds`: per category, the agent who had the last turn. Creating a ticket locks
 * its category's row for the rest of its transaction, so concurrent creations take turns one
 * after another and never two the same turn.
 *
 * `after_sales_tickets`: one per consumer request: a no-reason return or a complaint about an
 * order (its shop, merchant and category copied from `orders`, which carries no foreign keys).
 * `due_at` is the handling deadline (48 h after creation, then 24 h after each escalation);
 * `escalation_level` counts the escalations and `notified_level` the ones ops were told of,
 * so a notice lost to a crash is sent on the next scan while the ticket is unresolved. At most
 * one unresolved ticket per order and kind.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('after_sales_agents', (t) => {
    t.text('id').primary();
    t.specificType('categories', 'text[]').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.text('updated_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check('cardinality(categories) BETWEEN 1 AND 50', [], 'after_sales_agents_categories_check');
  });
  await db.raw('CREATE INDEX after_sales_agents_categories ON after_sales_agents USING gin (categories) WHERE active');

  await db.schema.createTable('after_sales_rounds', (t) => {
    t.text('category').primary();
    t.text('last_agent_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('after_sales_tickets', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    t.text('order_id').notNullable();
    t.text('merchant_id').notNullable();
    t.text('shop_id').notNullable();
    t.text('category').notNullable();
    t.text('description').notNullable();
    t.text('assignee');
    t.text('state').notNullable().defaultTo('open');
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.integer('escalation_level').notNullable().defaultTo(0);
    t.integer('notified_level').notNullable().defaultTo(0);
    t.timestamp('escalated_at', { useTz: true });
    t.timestamp('taken_at', { useTz: true });
    t.text('resolved_by');
    t.timestamp('resolved_at', { useTz: true });
    t.text('resolution');
    t.check(`kind IN ('no_reason_return', 'complaint')`, [], 'after_sales_tickets_kind_check');
    t.check(`state IN ('open', 'taken', 'resolved')`, [], 'after_sales_tickets_state_check');
    t.check(`(state = 'taken') <= (assignee IS NOT NULL AND taken_at IS NOT NULL)`, [], 'after_sales_tickets_taken_check');
    t.check(`(state = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL AND resolved_by IS NOT NULL)`, [], 'after_sales_tickets_resolved_check');
    t.check('escalation_level >= 0 AND notified_level BETWEEN 0 AND escalation_level', [], 'after_sales_tickets_levels_check');
    t.check('due_at > created_at', [], 'after_sales_tickets_due_check');
  });
  // The lists, newest first: all, a merchant's (every merchant token's list), a shop's, by
  // state, assignee or category. Each filter has its own index in the list's order: read from
  // the one on created_at alone, a filter that keeps few rows walks every ticket ever opened.
  await db.raw('CREATE INDEX after_sales_tickets_created ON after_sales_tickets (created_at DESC, id DESC)');
  await db.raw('CREATE INDEX after_sales_tickets_merchant ON after_sales_tickets (merchant_id, created_at DESC, id DESC)');
  await db.raw('CREATE INDEX after_sales_tickets_shop ON after_sales_tickets (shop_id, created_at DESC, id DESC)');
  await db.raw('CREATE INDEX after_sales_tickets_state ON after_sales_tickets (state, created_at DESC, id DESC)');
  await db.raw('CREATE INDEX after_sales_tickets_assignee ON after_sales_tickets (assignee, created_at DESC, id DESC) WHERE assignee IS NOT NULL');
  await db.raw('CREATE INDEX after_sales_tickets_category ON after_sales_tickets (category, created_at DESC, id DESC)');
  // The escalation scan pages through the unresolved tickets by id and keeps those past due:
  // it reads the backlog once per run, never the resolved tickets of past years.
  await db.raw(`CREATE INDEX after_sales_tickets_overdue ON after_sales_tickets (id) INCLUDE (due_at) WHERE state <> 'resolved'`);
  // Escalations of unresolved tickets ops have not been told of yet: few at any time.
  await db.raw(`CREATE INDEX after_sales_tickets_unnotified ON after_sales_tickets (id) WHERE notified_level < escalation_level AND state <> 'resolved'`);
  await db.raw(`CREATE UNIQUE INDEX after_sales_tickets_one_open ON after_sales_tickets (order_id, kind) WHERE state <> 'resolved'`);
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('after_sales_tickets');
  await db.schema.dropTable('after_sales_rounds');
  await db.schema.dropTable('after_sales_agents');
}
