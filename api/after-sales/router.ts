import { Router } from 'express';
import { requireRole } from '../auth';
import { idempotencyHeaders } from '../idempotency';
import { listRoute } from '../list-route';
import { describeRoute, errorResponses, json, problemContent } from '../openapi';
import { exampleProblem } from '../problems';
import { pageOf } from '../pagination';
import { readRoute } from '../read-route';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import { agentBody, agentListQuery, agentView, createTicketBody, emptyBody, resolveBody, summaryQuery, summaryView, ticketListQuery, ticketParams, ticketView } from './schemas';
import { createAfterSalesService, type AfterSalesService } from './service';

export type AfterSalesRouterDeps = RouterDeps<AfterSalesService>;

const STAFF = ['ops', 'admin'] as const;

/** After-sales tickets (docs/rules.md §5.4): opened by ops for the consumer, handled by agents, escalated by the scan. */
export function createAfterSalesRouter({ service, registry, limitMutations, idempotent }: AfterSalesRouterDeps): Router {
  const router = Router();

  describeRoute(registry, {
    method: 'post',
    path: '/v1/after-sales/tickets',
    summary:
      "Open a ticket for a consumer's no-reason return (within 7 days of the receipt confirmation) or complaint about an order; it goes to the category's next agent in turn and is due within 48 hours (ops, admin)",
    request: { headers: idempotencyHeaders, body: { required: true, ...json(createTicketBody) } },
    responses: {
      201: { description: 'opened and assigned (assignee null when no active agent handles the category)', ...json(ticketView) },
      404: { description: 'no such order', ...problemContent(exampleProblem('not_found', 'order o-1001 does not exist')) },
      409: {
        description: 'the return window has closed, the order is not received or refunded, or the order already has an unresolved ticket of the kind',
        ...problemContent(exampleProblem('conflict', 'the seven days for a no-reason return after the receipt confirmation have passed', { reason: 'return_window_closed' })),
      },
    },
  });
  router.post('/after-sales/tickets', requireRole(...STAFF), limitMutations, idempotent, async (req, res) => {
    res.locals.audit = { action: 'after_sales.ticket.open' };
    const body = parse(createTicketBody, req.body, 'ticket');
    res.locals.audit = { action: 'after_sales.ticket.open', target: `order:${body.orderId}`, details: { kind: body.kind } };
    const ticket = await service.create(body, req.principal!);
    res.locals.audit = { action: 'after_sales.ticket.open', target: `ticket:${ticket.ticketId}`, details: { kind: ticket.kind, orderId: ticket.orderId, assignee: ticket.assignee } };
    res.status(201).location(`/v1/after-sales/tickets/${ticket.ticketId}`).json(ticket);
  });

  listRoute(router, registry, {
    path: '/v1/after-sales/tickets',
    summary: 'After-sales tickets, the newest first; filters state, assignee, category, shopId, merchantId (ops, admin; merchant for its own)',
    roles: ['merchant', ...STAFF],
    query: ticketListQuery,
    item: ticketView,
    list: (query, principal) => service.list(query, principal),
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/after-sales/summary',
    summary: 'Per category: tickets open, taken, overdue now, ever escalated, resolved, and resolved within the 48-hour target (ops, admin; merchant for its own)',
    request: { query: summaryQuery },
    responses: { 200: { description: 'the figures', ...json(summaryView) }, 404: { ...errorResponses[404], description: "a merchant's token naming another merchant" } },
  });
  router.get('/after-sales/summary', requireRole('merchant', ...STAFF), async (req, res) => {
    res.json(await service.summary(parse(summaryQuery, req.query, 'query').merchantId, req.principal!));
  });

  readRoute(router, registry, {
    path: '/v1/after-sales/tickets/{ticketId}',
    summary: 'One ticket (ops, admin; merchant for its own shop)',
    roles: ['merchant', ...STAFF],
    params: { schema: ticketParams, name: 'ticket id' },
    response: { description: 'the ticket', schema: ticketView },
    read: ({ ticketId }, principal) => service.view(ticketId, principal),
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/after-sales/tickets/{ticketId}/take',
    summary:
      "An active agent takes a ticket: one assigned to it, or one of its categories no active agent holds. Taking one's own taken ticket again answers it unchanged (ops, admin registered as agents)",
    request: { params: ticketParams },
    responses: {
      200: { description: 'taken', ...json(ticketView) },
      409: { description: 'resolved already, or held by another active agent', ...problemContent(exampleProblem('conflict', 'ticket ast_0123456789abcdef01234567 is held by agent olga', { assignee: 'olga' })) },
    },
  });
  router.post('/after-sales/tickets/:ticketId/take', requireRole(...STAFF), limitMutations, async (req, res) => {
    const { ticketId } = parse(ticketParams, req.params, 'ticket id');
    res.locals.audit = { action: 'after_sales.ticket.take', target: `ticket:${ticketId}` };
    parse(emptyBody, req.body ?? {}, 'body');
    res.json(await service.take(ticketId, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/after-sales/tickets/{ticketId}/resolve',
    summary: 'The agent who took the ticket resolves it with what was done; once (ops, admin registered as agents)',
    request: { params: ticketParams, body: { required: true, ...json(resolveBody, { resolution: 'refund approved after the goods came back' }) } },
    responses: {
      200: { description: 'resolved; withinTarget says whether it met the 48-hour target', ...json(ticketView) },
      409: { description: 'resolved already, or not taken by the caller', ...problemContent(exampleProblem('conflict', 'ticket ast_0123456789abcdef01234567 is already resolved', { state: 'resolved' })) },
    },
  });
  router.post('/after-sales/tickets/:ticketId/resolve', requireRole(...STAFF), limitMutations, async (req, res) => {
    const { ticketId } = parse(ticketParams, req.params, 'ticket id');
    res.locals.audit = { action: 'after_sales.ticket.resolve', target: `ticket:${ticketId}` };
    const { resolution } = parse(resolveBody, req.body, 'resolution');
    res.json(await service.resolve(ticketId, resolution, req.principal!));
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/after-sales/agents',
    summary: 'Register a staff member (by token subject) as an after-sales agent of some categories, or change one; inactive agents get no new turns (admin)',
    request: { body: { required: true, ...json(agentBody, { agentId: 'olga', categories: ['apparel', 'beauty'], active: true }) } },
    responses: {
      200: { description: 'changed', ...json(agentView) },
      201: { description: 'registered', ...json(agentView) },
    },
  });
  router.post('/after-sales/agents', requireRole('admin'), limitMutations, async (req, res) => {
    res.locals.audit = { action: 'after_sales.agent.save' };
    const body = parse(agentBody, req.body, 'agent');
    const saved = await service.saveAgent(body, req.principal!);
    res.locals.audit = { action: saved.created ? 'after_sales.agent.register' : 'after_sales.agent.change', target: `agent:${body.agentId}`, details: { categories: body.categories, active: body.active } };
    res.status(saved.created ? 201 : 200).json(saved.agent);
  });

  describeRoute(registry, {
    method: 'get',
    path: '/v1/after-sales/agents',
    summary: 'The after-sales agents by id, with their categories (ops, admin)',
    request: { query: agentListQuery },
    responses: { 200: { description: 'one page; nextCursor continues it', ...json(pageOf(agentView)) } },
  });
  router.get('/after-sales/agents', requireRole(...STAFF), async (req, res) => {
    res.json(await service.agents(parse(agentListQuery, req.query, 'query')));
  });

  return router;
}

/** After-sales tickets, as the process registry mounts them (with the escalation scan). */
export const afterSalesRoutes: RouteFactory = ({ db, openapi, limitMutations, idempotent }) =>
  createAfterSalesRouter({ service: createAfterSalesService({ db }), registry: openapi, limitMutations, idempotent });
