import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { AGENT_LIST_ORDER, createAfterSalesRepository, TICKET_LIST_ORDER, type AgentRow, type TicketRow } from '../../db/repositories/after-sales';
import { handlingDueAt, isOverdue, resolvedWithinTarget, ticketRefusal, type TicketRefusal } from '../../domain/after-sales';
import { forbidden, conflict, notFound } from '../errors';
import type { Principal } from '../auth';
import { merchantScope } from '../list-route';
import { pageThrough } from '../pagination';
import type { AgentBody, AgentListQuery, CreateTicketBody, TicketListQuery, TicketView } from './schemas';

export interface AfterSalesServiceDeps {
  db: Knex;
  now?: () => Date;
}

const newTicketId = () => `ast_${randomBytes(12).toString('hex')}`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const REFUSALS: Record<TicketRefusal, string> = {
  order_not_received: 'a no-reason return needs an order whose receipt the consumer confirmed',
  return_window_closed: 'the seven days for a no-reason return after the receipt confirmation have passed',
  order_refunded: 'the order is already refunded: there is nothing left to return',
};

const isOneOpenViolation = (err: unknown): boolean => {
  const pg = err as { code?: unknown; constraint?: unknown } | null;
  return pg?.code === '23505' && pg.constraint === 'after_sales_tickets_one_open';
};

export function ticketViewOf(t: TicketRow, now: Date): TicketView {
  const resolvedAt = t.resolved_at ? new Date(t.resolved_at) : null;
  return {
    ticketId: t.id,
    kind: t.kind,
    orderId: t.order_id,
    merchantId: t.merchant_id,
    shopId: t.shop_id,
    category: t.category,
    description: t.description,
    state: t.state,
    assignee: t.assignee,
    createdBy: t.created_by,
    createdAt: iso(t.created_at)!,
    dueAt: iso(t.due_at)!,
    overdue: t.state !== 'resolved' && isOverdue(new Date(t.due_at).getTime(), now.getTime()),
    escalationLevel: t.escalation_level,
    escalatedAt: iso(t.escalated_at),
    takenAt: iso(t.taken_at),
    resolvedBy: t.resolved_by,
    resolvedAt: iso(t.resolved_at),
    resolution: t.resolution,
    withinTarget: resolvedAt ? resolvedWithinTarget(new Date(t.created_at).getTime(), resolvedAt.getTime()) : null,
  };
}

const agentViewOf = (a: AgentRow) => ({ agentId: a.id, categories: a.categories, active: a.active, updatedBy: a.updated_by, createdAt: iso(a.created_at)!, updatedAt: iso(a.updated_at)! });

/** After-sales tickets and their agents, between HTTP and the database. */
export function createAfterSalesService({ db, now = () => new Date() }: AfterSalesServiceDeps) {
  const repo = createAfterSalesRepository(db);
  const ticketNotFound = (ticketId: string) => notFound(`after-sales ticket ${ticketId} does not exist`);

  /** The ticket as the caller may see it: another merchant's is answered as a missing one. */
  async function visible(ticketId: string, principal: Principal): Promise<TicketRow> {
    const t = await repo.ticket(ticketId);
    if (!t || (principal.role === 'merchant' && t.merchant_id !== principal.merchantId)) throw ticketNotFound(ticketId);
    return t;
  }

  return {
    /**
     * Opens a ticket for an order the feed delivered and gives it the category's next agent.
     * A no-reason return only within seven days of the receipt confirmation; one unresolved
     * ticket per order and kind (a second is a 409 naming the first).
     */
    async create(body: CreateTicketBody, principal: Principal) {
      const order = await repo.order(body.orderId);
      if (!order) throw notFound(`order ${body.orderId} does not exist`);
      const at = now();
      const refusal = ticketRefusal(body.kind, { status: order.status, receiptConfirmedAtMs: order.receipt_confirmed_at ? new Date(order.receipt_confirmed_at).getTime() : null }, at.getTime());
      if (refusal) throw conflict(REFUSALS[refusal], { reason: refusal });
      const row = await repo
        .createTicket({ id: newTicketId(), kind: body.kind, order, description: body.description, createdBy: principal.sub, createdAt: at, dueAt: new Date(handlingDueAt(at.getTime())) })
        .catch(async (err: unknown) => {
          if (!isOneOpenViolation(err)) throw err;
          const open = await repo.openTicketOf(body.orderId, body.kind);
          throw conflict(`order ${body.orderId} already has an unresolved ${body.kind} ticket`, { reason: 'ticket_open', ...(open ? { ticketId: open.id } : {}) });
        });
      return ticketViewOf(row, at);
    },

    async list(query: TicketListQuery, principal: Principal) {
      const merchantId = merchantScope(principal, query.merchantId);
      const filters = { state: query.state, assignee: query.assignee, category: query.category, shopId: query.shopId, merchantId };
      const at = now();
      return pageThrough({ list: 'after-sales-tickets', filters }, TICKET_LIST_ORDER, query, (after, n) => repo.ticketsPage(filters, after, n), (t) => ticketViewOf(t, at));
    },

    async view(ticketId: string, principal: Principal) {
      return ticketViewOf(await visible(ticketId, principal), now());
    },

    async take(ticketId: string, principal: Principal) {
      const at = now();
      const taken = await repo.take(ticketId, principal.sub, at);
      switch (taken.outcome) {
        case 'taken':
          return ticketViewOf(taken.row, at);
        case 'missing':
          throw ticketNotFound(ticketId);
        case 'resolved':
          throw conflict(`ticket ${ticketId} is already resolved`, { state: 'resolved' });
        case 'taken_by_other':
          throw conflict(`ticket ${ticketId} is held by agent ${taken.row.assignee}`, { assignee: taken.row.assignee });
        case 'not_an_agent':
          throw forbidden(`${principal.sub} is not an active after-sales agent`);
        case 'not_in_categories':
          throw forbidden(`${principal.sub} does not handle category ${taken.row.category}`);
      }
    },

    async resolve(ticketId: string, resolution: string, principal: Principal) {
      const at = now();
      const resolved = await repo.resolve(ticketId, principal.sub, resolution, at);
      switch (resolved.outcome) {
        case 'resolved':
          return ticketViewOf(resolved.row, at);
        case 'missing':
          throw ticketNotFound(ticketId);
        case 'already_resolved':
          throw conflict(`ticket ${ticketId} is already resolved`, { state: 'resolved' });
        case 'not_taken_by_caller':
          throw conflict(`ticket ${ticketId} must be taken by ${principal.sub} before it is resolved`, { state: resolved.row.state, assignee: resolved.row.assignee });
      }
    },

    async saveAgent(body: AgentBody, principal: Principal) {
      const saved = await repo.saveAgent({ id: body.agentId, categories: body.categories, active: body.active, by: principal.sub });
      return { agent: agentViewOf(saved.row), created: saved.created };
    },

    async agents({ cursor, limit }: AgentListQuery) {
      return pageThrough({ list: 'after-sales-agents', filters: {} }, AGENT_LIST_ORDER, { cursor, limit }, (after, n) => repo.agentsPage(after, n), agentViewOf);
    },

    async summary(requestedMerchant: string | undefined, principal: Principal) {
      const at = now();
      return { asOf: at.toISOString(), categories: await repo.summary(at, merchantScope(principal, requestedMerchant)) };
    },
  };
}

export type AfterSalesService = ReturnType<typeof createAfterSalesService>;
