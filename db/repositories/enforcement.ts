import type { Knex } from 'knex';
import type { EnforcementReason, EnforcementState, RefundOutcome } from '../../domain/enforcement';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

export const REFUND_LIST_ORDER: readonly SortKey[] = [{ sql: 'order_id', type: 'text', direction: 'asc' }];

export interface EnforcementActionRow {
  id: string;
  shop_id: string;
  merchant_id: string;
  reason: EnforcementReason;
  evidence: string;
  opened_by: string;
  opened_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
  rejected_by: string | null;
  rejected_at: Date | null;
  state: EnforcementState;
  workflow_id: string;
  finished_at: Date | null;
  attention_step: string | null;
  attention_error: string | null;
  attention_since: Date | null;
}

export interface EnforcementRefundRow {
  order_id: string;
  action_id: string;
  amount_fen: number;
  state: RefundOutcome;
  platform_refund_id: string | null;
  reason_code: string | null;
  attempts: number;
  refunded_at: Date | null;
  recorded_at: Date;
}

/** An order a page sends to the platform: its id and its whole amount. */
export interface OrderToRefund {
  orderId: string;
  amountFen: number;
}

/** What the platform answered for one order of a page. */
export type RefundRecord =
  | { orderId: string; amountFen: number; outcome: 'refunded'; platformRefundId: string; refundedAt: string }
  | { orderId: string; amountFen: number; outcome: 'refused'; reasonCode: string };

/**
 * The shop's orders an action still has to send: not refunded as far as the order feed has
 * told us (by the consumer, or by an earlier action once imported), and not answered for in
 * `enforcement_refunds` (by any action, imported yet or not). Walked by `orders_by_shop`, each
 * order looked up in `enforcement_refunds_pkey`.
 */
const OPEN_ORDERS = `
  FROM orders o
 WHERE o.shop_id = ? AND o.status <> 'refunded'
   AND NOT EXISTS (SELECT 1 FROM enforcement_refunds r WHERE r.order_id = o.id)`;

/**
 * One page's answers in one statement: the rows inserted (an order answered by a twin attempt
 * already keeps that answer: ON CONFLICT DO NOTHING). `orders` is not written here: the
 * platform appends each refund to the order feed, and the order import (the one writer of
 * `orders`, under its seq guard) brings it in before settlement takes the commission back.
 */
const RECORD_PAGE = `
WITH answers AS (
  SELECT * FROM jsonb_to_recordset(?::jsonb)
    AS a(order_id text, amount_fen bigint, state text, platform_refund_id text, reason_code text, refunded_at timestamptz)
), recorded AS (
  INSERT INTO enforcement_refunds (order_id, action_id, amount_fen, state, platform_refund_id, reason_code, refunded_at, attempts)
  SELECT order_id, ?, amount_fen, state, platform_refund_id, reason_code, refunded_at, ? FROM answers
  ON CONFLICT (order_id) DO NOTHING
  RETURNING state
)
SELECT count(*) FILTER (WHERE state = 'refunded')::int AS refunded,
       count(*) FILTER (WHERE state = 'refused')::int AS refused
  FROM recorded`;

// The reads whose plans test/db/enforcement.test.ts checks, built where the repository runs them.

/** The next page of the walk: the shop's open orders after `afterOrderId`, by id. */
export const ordersToRefundQuery = (db: Knex, shopId: string, afterOrderId: string, limit: number) =>
  db.raw(`SELECT o.id AS "orderId", o.amount_fen AS "amountFen" ${OPEN_ORDERS} AND o.id > ? ORDER BY o.id LIMIT ?`, [shopId, afterOrderId, limit]);

/** An action's answered orders by state, and the shop's orders still open. */
export const countsQuery = (db: Knex, actionId: string, shopId: string) =>
  db.raw(
    `SELECT (SELECT count(*)::int FROM enforcement_refunds WHERE action_id = ? AND state = 'refunded') AS refunded,
            (SELECT count(*)::int FROM enforcement_refunds WHERE action_id = ? AND state = 'refused') AS refused,
            (SELECT count(*)::int ${OPEN_ORDERS}) AS open`,
    [actionId, actionId, shopId],
  );

/** An action's refund rows, narrowed to one outcome or not; paged by keyset on REFUND_LIST_ORDER. */
export function refundListQuery(db: Knex, filters: { actionId: string; state?: RefundOutcome }): Knex.QueryBuilder {
  const q = db('enforcement_refunds').select('*').where('action_id', filters.actionId);
  if (filters.state) void q.where('state', filters.state);
  return q;
}

export function createEnforcementRepository(db: Knex) {
  const find = (id: string): Promise<EnforcementActionRow | undefined> => db('enforcement_actions').where({ id }).first();
  return {
    find,

    /**
     * The shop's action not yet finished (awaiting approval, refunding, paused, waiting for ops),
     * read under a lock on the shop held to the end of `trx`: two opens of one shop at once
     * see each other's row, so a shop never has two live actions.
     */
    async liveActionOf(shopId: string, trx: Knex.Transaction): Promise<EnforcementActionRow | undefined> {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`enforcement_actions:shop:${shopId}`]);
      return trx('enforcement_actions').where({ shop_id: shopId }).whereNotIn('state', ['completed', 'rejected']).first();
    },

    async insertAction(row: Pick<EnforcementActionRow, 'id' | 'shop_id' | 'merchant_id' | 'reason' | 'evidence' | 'opened_by' | 'workflow_id'>, trx: Knex = db): Promise<void> {
      await trx('enforcement_actions').insert(row);
    },

    async deleteAction(id: string, trx: Knex = db): Promise<void> {
      await trx('enforcement_actions').where({ id, state: 'awaiting_approval' }).whereNull('approved_by').delete();
    },

    /**
     * Records the checker's decision once: a second call (a retried activity) finds the row
     * decided and changes nothing. The CHECKs refuse a checker who is the maker.
     */
    async decide(id: string, decision: 'approve' | 'reject', by: string, at: Date): Promise<EnforcementActionRow | undefined> {
      const set = decision === 'approve' ? { approved_by: by, approved_at: at, state: 'refunding' } : { rejected_by: by, rejected_at: at, state: 'rejected', finished_at: at };
      await db('enforcement_actions')
        .where({ id, state: 'awaiting_approval' })
        .update({ ...set, updated_at: at });
      return find(id);
    },

    /** Pause, resume, complete, or back from needs_attention: the state ops read; a finished action stays finished. */
    async setState(id: string, state: Extract<EnforcementState, 'refunding' | 'paused' | 'completed'>, at: Date): Promise<void> {
      await db('enforcement_actions')
        .where({ id })
        .whereNotIn('state', ['completed', 'rejected'])
        .update({ state, updated_at: at, attention_step: null, attention_error: null, attention_since: null, ...(state === 'completed' ? { finished_at: at } : {}) });
    },

    /** A step the platform refused for good waits for ops: the row says which and why. */
    async setAttention(id: string, attention: { step: string; error: string; since: Date }): Promise<void> {
      await db('enforcement_actions')
        .where({ id })
        .whereIn('state', ['refunding', 'paused', 'needs_attention'])
        .update({ state: 'needs_attention', attention_step: attention.step, attention_error: attention.error, attention_since: attention.since, updated_at: attention.since });
    },

    /** Orders still to send, after `afterOrderId`, by id: the next page of the walk. */
    async ordersToRefund(shopId: string, afterOrderId: string, limit: number): Promise<OrderToRefund[]> {
      const { rows } = (await ordersToRefundQuery(db, shopId, afterOrderId, limit)) as {
        rows: Array<{ orderId: string; amountFen: number | string }>;
      };
      return rows.map((r) => ({ orderId: r.orderId, amountFen: Number(r.amountFen) }));
    },

    async countOrdersToRefund(shopId: string): Promise<number> {
      const { rows } = (await db.raw(`SELECT count(*)::int AS n ${OPEN_ORDERS}`, [shopId])) as { rows: Array<{ n: number }> };
      return Number(rows[0]!.n);
    },

    async recordPage(actionId: string, attempt: number, answers: readonly RefundRecord[]): Promise<{ refunded: number; refused: number }> {
      if (answers.length === 0) return { refunded: 0, refused: 0 };
      const json = answers.map((a) =>
        a.outcome === 'refunded'
          ? { order_id: a.orderId, amount_fen: a.amountFen, state: 'refunded', platform_refund_id: a.platformRefundId, reason_code: null, refunded_at: a.refundedAt }
          : { order_id: a.orderId, amount_fen: a.amountFen, state: 'refused', platform_refund_id: null, reason_code: a.reasonCode, refunded_at: null },
      );
      const { rows } = (await db.raw(RECORD_PAGE, [JSON.stringify(json), actionId, attempt])) as { rows: Array<{ refunded: number; refused: number }> };
      const row = rows[0]!;
      return { refunded: Number(row.refunded), refused: Number(row.refused) };
    },

    /** The action's answered orders by state, and how many of the shop's orders are still open. */
    async counts(actionId: string, shopId: string): Promise<{ refunded: number; refused: number; open: number }> {
      const { rows } = (await countsQuery(db, actionId, shopId)) as { rows: Array<{ refunded: number; refused: number; open: number }> };
      const row = rows[0]!;
      return { refunded: Number(row.refunded), refused: Number(row.refused), open: Number(row.open) };
    },

    /** One page of the action's answered orders, by order id; `state` narrows to refunded or refused. */
    async refundPage(filters: { actionId: string; state?: RefundOutcome }, after: Position | undefined, limit: number): Promise<KeysetPage<EnforcementRefundRow>> {
      return keysetPage<EnforcementRefundRow>(db, refundListQuery(db, filters), REFUND_LIST_ORDER, after, limit);
    },
  };
}

export type EnforcementRepository = ReturnType<typeof createEnforcementRepository>;
