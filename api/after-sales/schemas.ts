import { z } from 'zod';
import { TICKET_KINDS, TICKET_STATES } from '../../domain/after-sales';
import { categorySchema } from '../fee-rates/schemas';
import { pagingQuery } from '../pagination';
import { shopIdParams } from '../shops/schemas';
import { merchantIdSchema } from '../verifications/schemas';

/** A staff token's subject, as agents are known (printable, so it can be a list's cursor key). */
const agentId = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'a staff subject: printable characters, no spaces (1–128)');
const ticketId = z.string().regex(/^ast_[0-9a-f]{24}$/, 'a ticket id (ast_ and 24 hex digits)');
const text = (max: number) => z.string().trim().min(1).max(max);

export const ticketParams = z.object({ ticketId }).strict();

export const createTicketBody = z
  .object({
    kind: z.enum(TICKET_KINDS).describe('no_reason_return (within 7 days of the receipt confirmation) or complaint'),
    orderId: z.string().min(1).max(200).describe('the order as the order feed names it'),
    description: text(2000).describe("the consumer's request in their words (kept on the ticket, never logged)"),
  })
  .strict();
export type CreateTicketBody = z.infer<typeof createTicketBody>;

export const emptyBody = z.object({}).strict();

export const resolveBody = z.object({ resolution: text(2000).describe('what was done: refunded, replaced, explained') }).strict();
export type ResolveBody = z.infer<typeof resolveBody>;

export const ticketListQuery = z
  .object({
    state: z.enum(TICKET_STATES).optional(),
    assignee: agentId.optional().describe('the agent a ticket is assigned to'),
    category: categorySchema.optional(),
    shopId: shopIdParams.shape.shopId.optional().describe("one shop's tickets (another merchant's shop lists nothing)"),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's tickets; a merchant's token lists its own only"),
    ...pagingQuery,
  })
  .strict();
export type TicketListQuery = z.output<typeof ticketListQuery>;

export const ticketView = z.object({
  ticketId: z.string(),
  kind: z.enum(TICKET_KINDS),
  orderId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  category: z.string(),
  description: z.string(),
  state: z.enum(TICKET_STATES),
  assignee: z.string().nullable().describe('the agent whose turn it was (round-robin by category), or who took it; null when no agent handles the category'),
  createdBy: z.string(),
  createdAt: z.string(),
  dueAt: z.string().describe('the handling deadline: 48 h after creation, 24 h after each escalation'),
  overdue: z.boolean().describe('unresolved and past dueAt now'),
  escalationLevel: z.number().int().describe('how often it was escalated (0: never)'),
  escalatedAt: z.string().nullable(),
  takenAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable(),
  withinTarget: z.boolean().nullable().describe('resolved within 48 h of creation; null while unresolved'),
});
export type TicketView = z.infer<typeof ticketView>;

export const agentBody = z
  .object({
    agentId: agentId.describe("the staff member's token subject"),
    categories: z
      .array(categorySchema)
      .min(1)
      .max(50)
      .refine((c) => new Set(c).size === c.length, 'each category once')
      .describe('the order categories the agent handles'),
    active: z.boolean().default(true).describe('false: no new turns; tickets it holds may be taken by other agents of the category'),
  })
  .strict();
export type AgentBody = z.output<typeof agentBody>;

export const agentView = z.object({
  agentId: z.string(),
  categories: z.array(z.string()),
  active: z.boolean(),
  updatedBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const agentListQuery = z.object({ ...pagingQuery }).strict();
export type AgentListQuery = z.output<typeof agentListQuery>;

export const summaryQuery = z.object({ merchantId: merchantIdSchema.optional() }).strict();

export const summaryView = z.object({
  asOf: z.string(),
  categories: z.array(
    z.object({
      category: z.string(),
      open: z.number().int(),
      taken: z.number().int(),
      overdue: z.number().int().describe('unresolved and past due now'),
      escalated: z.number().int().describe('escalated at least once, resolved or not'),
      resolved: z.number().int(),
      resolvedWithinTarget: z.number().int().describe('resolved within 48 h of creation (the handling target)'),
    }),
  ),
});
