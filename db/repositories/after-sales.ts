import type { Knex } from 'knex';
import { HANDLING_TARGET_MS, nextInRound, type TicketKind, type TicketState } from '../../domain/after-sales';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

/** Newest first, as ops read them. */
export const TICKET_LIST_ORDER: readonly SortKey[] = [
  { sql: 'created_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'id', type: 'text', direction: 'desc' },
];
export const AGENT_LIST_ORDER: readonly SortKey[] = [{ sql: 'id', type: 'text', direction: 'asc' }];

export interface AgentRow {
  id: string;
  categories: string[];
  active: boolean;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface TicketRow {
  id: string;
  kind: TicketKind;
  order_id: string;
  merchant_id: string;
  shop_id: string;
  category: string;
  description: string;
  assignee: string | null;
  state: TicketState;
  created_by: string;
  created_at: Date;
  due_at: Date;
  escalation_level: number;
  notified_level: number;
  escalated_at: Date | null;
  taken_at: Date | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  resolution: string | null;
}

export interface TicketOrder {
  id: string;
  merchant_id: string;
  shop_id: string;
  category: string;
  status: 'paid' | 'receipt_confirmed' | 'refunded';
  receipt_confirmed_at: Date | null;
}

export interface NewTicket {
  id: string;
  kind: TicketKind;
  order: TicketOrder;
  description: string;
  createdBy: string;
  createdAt: Date;
  dueAt: Date;
}

export interface TicketFilters {
  state?: TicketState;
  assignee?: string;
  category?: string;
  shopId?: string;
  merchantId?: string;
}

export type TakeOutcome =
  | { outcome: 'taken'; row: TicketRow }
  | { outcome: 'missing' }
  | { outcome: 'resolved'; row: TicketRow }
  | { outcome: 'taken_by_other'; row: TicketRow }
  | { outcome: 'not_an_agent'; row: TicketRow }
  | { outcome: 'not_in_categories'; row: TicketRow };

export type ResolveOutcome = { outcome: 'resolved'; row: TicketRow } | { outcome: 'missing' } | { outcome: 'already_resolved'; row: TicketRow } | { outcome: 'not_taken_by_caller'; row: TicketRow };

export interface CategorySummary {
  category: string;
  open: number;
  taken: number;
  overdue: number;
  escalated: number;
  resolved: number;
  resolvedWithinTarget: number;
}

const count = (v: unknown) => Number(v ?? 0);

export function createAfterSalesRepository(db: Knex) {
  const activeAgent = (trx: Knex, id: string) => trx('after_sales_agents').where({ id, active: true }).first<AgentRow | undefined>();

  return {
    async saveAgent(a: { id: string; categories: string[]; active: boolean; by: string }): Promise<{ row: AgentRow; created: boolean }> {
      const [row] = await db('after_sales_agents')
        .insert({ id: a.id, categories: a.categories, active: a.active, updated_by: a.by })
        .onConflict('id')
        .merge({ categories: a.categories, active: a.active, updated_by: a.by, updated_at: db.fn.now() })
        // xmax is 0 on a freshly inserted row: tells a new agent from an update.
        .returning<Array<AgentRow & { inserted: boolean }>>(['*', db.raw('(xmax = 0) AS inserted')]);
      const { inserted, ...agent } = row!;
      return { row: agent, created: inserted };
    },

    agent: (id: string) => db('after_sales_agents').where({ id }).first<AgentRow | undefined>(),

    agentsPage(after: Position | undefined, limit: number): Promise<KeysetPage<AgentRow>> {
      return keysetPage<AgentRow>(db, db('after_sales_agents').select('*'), AGENT_LIST_ORDER, after, limit);
    },

    order: (id: string) =>
      db('orders').where({ id }).first<TicketOrder | undefined>('id', 'merchant_id', 'shop_id', 'category', 'status', 'receipt_confirmed_at'),

    /**
     * Opens a ticket and gives it the category's next turn, in one transaction: the category's
     * round row is locked until commit, so concurrent creations take turns one after another.
     * A refused insert (a second unresolved ticket for the order and kind) rolls the turn back.
     */
    async createTicket(t: NewTicket): Promise<TicketRow> {
      return db.transaction(async (trx) => {
        await trx('after_sales_rounds').insert({ category: t.order.category }).onConflict('category').ignore();
        const round = await trx('after_sales_rounds').where({ category: t.order.category }).forUpdate().first<{ last_agent_id: string | null }>('last_agent_id');
        // Containment, not `= ANY`: only @> is served by the GIN index on the categories.
        const agents = await trx('after_sales_agents').where({ active: true }).whereRaw('categories @> ARRAY[?]::text[]', [t.order.category]).pluck<string[]>('id');
        const assignee = nextInRound(agents, round?.last_agent_id ?? null);
        if (assignee) await trx('after_sales_rounds').where({ category: t.order.category }).update({ last_agent_id: assignee, updated_at: trx.fn.now() });
        const [row] = await trx('after_sales_tickets')
          .insert({
            id: t.id,
            kind: t.kind,
            order_id: t.order.id,
            merchant_id: t.order.merchant_id,
            shop_id: t.order.shop_id,
            category: t.order.category,
            description: t.description,
            assignee,
            state: 'open',
            created_by: t.createdBy,
            created_at: t.createdAt,
            due_at: t.dueAt,
          })
          .returning<TicketRow[]>('*');
        return row!;
      });
    },

    ticket: (id: string) => db('after_sales_tickets').where({ id }).first<TicketRow | undefined>(),

    /** The unresolved ticket of the order and kind, if any (what a refused duplicate names). */
    openTicketOf: (orderId: string, kind: TicketKind) =>
      db('after_sales_tickets').where({ order_id: orderId, kind }).whereNot({ state: 'resolved' }).first<{ id: string } | undefined>('id'),

    ticketsPage(f: TicketFilters, after: Position | undefined, limit: number): Promise<KeysetPage<TicketRow>> {
      const q = db('after_sales_tickets').select('*');
      if (f.state) void q.where('state', f.state);
      if (f.assignee) void q.where('assignee', f.assignee);
      if (f.category) void q.where('category', f.category);
      if (f.shopId) void q.where('shop_id', f.shopId);
      if (f.merchantId) void q.where('merchant_id', f.merchantId);
      return keysetPage<TicketRow>(db, q, TICKET_LIST_ORDER, after, limit);
    },

    /**
     * An active agent takes a ticket: one assigned to it, or one of its categories that no
     * active agent holds (unassigned, or its holder was made inactive). Taking one's own taken ticket again
     * answers it as it is, so a retried request is harmless.
     */
    async take(id: string, agentId: string, at: Date): Promise<TakeOutcome> {
      return db.transaction(async (trx) => {
        const row = await trx('after_sales_tickets').where({ id }).forUpdate().first<TicketRow | undefined>();
        if (!row) return { outcome: 'missing' };
        if (row.state === 'resolved') return { outcome: 'resolved', row };
        if (row.assignee === agentId && row.state === 'taken') return { outcome: 'taken', row };
        const agent = await activeAgent(trx, agentId);
        if (!agent) return { outcome: 'not_an_agent', row };
        if (row.assignee !== agentId) {
          if (!agent.categories.includes(row.category)) return { outcome: 'not_in_categories', row };
          // Held by an agent still at work: theirs. Held by one who left: free to take.
          if (row.assignee !== null && (await activeAgent(trx, row.assignee))) return { outcome: 'taken_by_other', row };
        }
        const [taken] = await trx('after_sales_tickets').where({ id }).update({ state: 'taken', assignee: agentId, taken_at: at }).returning<TicketRow[]>('*');
        return { outcome: 'taken', row: taken! };
      });
    },

    /** The agent who took a ticket resolves it, once. */
    async resolve(id: string, agentId: string, resolution: string, at: Date): Promise<ResolveOutcome> {
      return db.transaction(async (trx) => {
        const row = await trx('after_sales_tickets').where({ id }).forUpdate().first<TicketRow | undefined>();
        if (!row) return { outcome: 'missing' };
        if (row.state === 'resolved') return { outcome: 'already_resolved', row };
        if (row.state !== 'taken' || row.assignee !== agentId) return { outcome: 'not_taken_by_caller', row };
        const [resolved] = await trx('after_sales_tickets')
          .where({ id })
          .update({ state: 'resolved', resolution, resolved_by: agentId, resolved_at: at })
          .returning<TicketRow[]>('*');
        return { outcome: 'resolved', row: resolved! };
      });
    },

    /**
     * Escalates up to `limit` unresolved tickets past due at `asOf`, after `afterId`, by id: their
     * ids are read, then one UPDATE sets level + 1, due again at `nextDue`. The UPDATE checks
     * the conditions again on each row as it locks it, so a ticket resolved or escalated
     * meanwhile is left alone; a rerun at the same `asOf` finds them due later and escalates
     * nothing twice.
     */
    async escalatePage(asOf: Date, nextDue: Date, afterId: string, limit: number): Promise<{ ids: string[]; scanned: string | null }> {
      const due = db('after_sales_tickets').whereNot('state', 'resolved').where('due_at', '<', asOf);
      const page = await due.clone().where('id', '>', afterId).orderBy('id').limit(limit).pluck<string[]>('id');
      if (page.length === 0) return { ids: [], scanned: null };
      const escalated = await db('after_sales_tickets')
        .whereIn('id', page)
        .whereNot('state', 'resolved')
        .where('due_at', '<', asOf)
        .update({ escalation_level: db.raw('escalation_level + 1'), escalated_at: asOf, due_at: nextDue })
        .returning<Array<{ id: string }>>('id');
      return { ids: escalated.map((r) => r.id), scanned: page.at(-1)! };
    },

    /**
     * Escalations ops have not been told of, after `afterId`, by id. A ticket resolved meanwhile
     * needs nobody chasing: a notice the platform refused is not tried again for ever.
     */
    unnotified: (afterId: string, limit: number) =>
      db('after_sales_tickets')
        .whereRaw('notified_level < escalation_level')
        .whereNot('state', 'resolved')
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .select<TicketRow[]>('*'),

    async markNotified(id: string, level: number): Promise<void> {
      await db('after_sales_tickets').where({ id }).update({ notified_level: db.raw('GREATEST(notified_level, ?)', [level]) });
    },

    /**
     * Per category, the tickets by state, those past due at `asOf`, those ever escalated, and
     * how many of the resolved met the 48-hour handling target (the figure the sources measure).
     */
    async summary(asOf: Date, merchantId?: string): Promise<CategorySummary[]> {
      const q = db('after_sales_tickets')
        .select('category')
        .select(
          db.raw(`count(*) FILTER (WHERE state = 'open') AS open`),
          db.raw(`count(*) FILTER (WHERE state = 'taken') AS taken`),
          db.raw(`count(*) FILTER (WHERE state <> 'resolved' AND due_at < ?) AS overdue`, [asOf]),
          db.raw('count(*) FILTER (WHERE escalation_level > 0) AS escalated'),
          db.raw(`count(*) FILTER (WHERE state = 'resolved') AS resolved`),
          db.raw(`count(*) FILTER (WHERE state = 'resolved' AND resolved_at <= created_at + ? * interval '1 millisecond') AS within_target`, [HANDLING_TARGET_MS]),
        )
        .groupBy('category')
        .orderBy('category');
      if (merchantId) void q.where('merchant_id', merchantId);
      const rows = (await q) as Array<Record<string, unknown>>;
      return rows.map((r) => ({
        category: String(r.category),
        open: count(r.open),
        taken: count(r.taken),
        overdue: count(r.overdue),
        escalated: count(r.escalated),
        resolved: count(r.resolved),
        resolvedWithinTarget: count(r.within_target),
      }));
    },
  };
}

export type AfterSalesRepository = ReturnType<typeof createAfterSalesRepository>;
