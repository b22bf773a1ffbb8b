import type { Knex } from 'knex';

/**
 * The shop and what holds it: its status, the restrictions on it (each held by the process
 * that imposed it), the categories it sells, and its closures. Deposit money and episodes
 * are in deposit-accounts.ts and the ledger. Every write is safe to repeat, because
 * activities are retried.
 */

/** Who holds a restriction: the deposit ladder, a closure, or one violation case (`violation:<caseId>:<part>`). */
export type RestrictionSource = 'deposit' | 'closure' | 'promotion-closure' | `violation:${string}` | `campaign:${string}`;
export type CategoryStatus = 'open' | 'closed';

export interface ShopRow {
  id: string;
  merchant_id: string;
  shop_type: string;
  status: string;
  opened_by_case_id: string;
}

export interface ShopRestriction {
  restriction: string;
  source: RestrictionSource;
  since: Date;
}

export interface ShopCategory {
  category: string;
  status: CategoryStatus;
}

export interface ShopClosure {
  id: string;
  shopId: string;
  workflowId: string;
  status: string;
  requestedBy: string;
  requestedAt: Date;
  refundedFen: number | null;
  closedAt: Date | null;
  cancelledAt: Date | null;
  details: Record<string, unknown>;
}

/** A closure as it is first written: no refund, no end yet. */
export type NewClosure = Pick<ShopClosure, 'id' | 'shopId' | 'workflowId' | 'status' | 'requestedBy' | 'requestedAt'> & { details?: Record<string, unknown> };

/** `details` is merged into what is stored; the other fields replace it. */
export interface ClosurePatch {
  status?: string;
  refundedFen?: number | null;
  closedAt?: Date | null;
  cancelledAt?: Date | null;
  details?: Record<string, unknown>;
}

/** Closure statuses after which another closure may be requested. */
const FINISHED_CLOSURE = ['closed', 'cancelled'];

export class ClosureConflictError extends Error {
  constructor(
    readonly shopId: string,
    readonly activeClosureId: string,
  ) {
    super(`shop ${shopId} already has active closure ${activeClosureId}`);
    this.name = 'ClosureConflictError';
  }
}

export class ShopRecordNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} is not recorded`);
    this.name = 'ShopRecordNotFoundError';
  }
}

interface ClosureRow {
  id: string;
  shop_id: string;
  workflow_id: string;
  status: string;
  requested_by: string;
  requested_at: Date;
  refunded_fen: number | null;
  closed_at: Date | null;
  cancelled_at: Date | null;
  details: Record<string, unknown>;
}

const toClosure = (r: ClosureRow): ShopClosure => ({
  id: r.id,
  shopId: r.shop_id,
  workflowId: r.workflow_id,
  status: r.status,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  refundedFen: r.refunded_fen,
  closedAt: r.closed_at,
  cancelledAt: r.cancelled_at,
  details: r.details,
});

/** Last mention wins, so one statement never touches a row twice. */
const lastByKey = <T>(items: readonly T[], key: (t: T) => string): T[] => [...new Map(items.map((t) => [key(t), t])).values()];

export function createShopRepository(db: Knex) {
  async function findClosure(id: string): Promise<ShopClosure | undefined> {
    const row = await db<ClosureRow>('shop_closures').where({ id }).first();
    return row ? toClosure(row) : undefined;
  }

  async function activeClosureOf(shopId: string): Promise<ShopClosure | undefined> {
    const row = await db<ClosureRow>('shop_closures').where({ shop_id: shopId }).whereNotIn('status', FINISHED_CLOSURE).first();
    return row ? toClosure(row) : undefined;
  }

  return {
    async find(shopId: string): Promise<ShopRow | undefined> {
      return db<ShopRow>('shops').where({ id: shopId }).first();
    },

    async setStatus(shopId: string, status: string): Promise<void> {
      const changed = await db('shops').where({ id: shopId }).update({ status, updated_at: db.fn.now() });
      if (changed === 0) throw new ShopRecordNotFoundError(`shop ${shopId}`);
    },

    /** Returns the restrictions this call added; one already held keeps its `since`. */
    async applyRestrictions(shopId: string, restrictions: string[], source: RestrictionSource, at: Date): Promise<string[]> {
      if (restrictions.length === 0) return [];
      const rows = await db('shop_restrictions')
        .insert([...new Set(restrictions)].map((restriction) => ({ shop_id: shopId, restriction, source, since: at })))
        .onConflict(['shop_id', 'restriction', 'source'])
        .ignore()
        .returning('restriction');
      return rows.map((r: { restriction: string }) => r.restriction);
    },

    /** Lifts what `source` imposed (the other source's restrictions stay); returns what was lifted. */
    async liftRestrictions(shopId: string, restrictions: string[] | 'all', source: RestrictionSource): Promise<string[]> {
      const q = db('shop_restrictions').where({ shop_id: shopId, source });
      if (restrictions !== 'all') q.whereIn('restriction', restrictions);
      const rows = await q.delete().returning('restriction');
      return rows.map((r: { restriction: string }) => r.restriction).sort();
    },

    async restrictionsOf(shopId: string): Promise<ShopRestriction[]> {
      const rows = await db('shop_restrictions')
        .where({ shop_id: shopId })
        .orderBy([{ column: 'since' }, { column: 'restriction' }, { column: 'source' }]);
      return rows.map((r) => ({ restriction: r.restriction, source: r.source, since: r.since }));
    },

    /** Upserts the given categories; categories not listed keep their status. */
    async setCategories(shopId: string, categories: ShopCategory[]): Promise<void> {
      if (categories.length === 0) return;
      await db('shop_categories')
        .insert(lastByKey(categories, (c) => c.category).map((c) => ({ shop_id: shopId, category: c.category, status: c.status })))
        .onConflict(['shop_id', 'category'])
        .merge(['status']);
    },

    async categoriesOf(shopId: string): Promise<ShopCategory[]> {
      const rows = await db('shop_categories').where({ shop_id: shopId }).orderBy('category');
      return rows.map((r) => ({ category: r.category, status: r.status }));
    },

    /**
     * Records a closure request; the same id again is a no-op (`created: false`). While
     * another closure of the shop is active the request is a conflict.
     */
    async createClosure(c: NewClosure): Promise<{ created: boolean; closure: ShopClosure }> {
      const inserted = await db('shop_closures')
        .insert({
          id: c.id,
          shop_id: c.shopId,
          workflow_id: c.workflowId,
          status: c.status,
          requested_by: c.requestedBy,
          requested_at: c.requestedAt,
          details: JSON.stringify(c.details ?? {}),
        })
        .onConflict()
        .ignore()
        .returning('id');
      const closure = await findClosure(c.id);
      if (closure) return { created: inserted.length > 0, closure };
      const active = await activeClosureOf(c.shopId);
      throw new ClosureConflictError(c.shopId, active?.id ?? 'unknown');
    },

    async updateClosure(id: string, patch: ClosurePatch): Promise<ShopClosure> {
      const update: Record<string, unknown> = {};
      if (patch.status !== undefined) update.status = patch.status;
      if (patch.refundedFen !== undefined) update.refunded_fen = patch.refundedFen;
      if (patch.closedAt !== undefined) update.closed_at = patch.closedAt;
      if (patch.cancelledAt !== undefined) update.cancelled_at = patch.cancelledAt;
      if (patch.details !== undefined) update.details = db.raw('details || ?::jsonb', [JSON.stringify(patch.details)]);
      if (Object.keys(update).length > 0) {
        const changed = await db('shop_closures').where({ id }).update(update);
        if (changed === 0) throw new ShopRecordNotFoundError(`shop closure ${id}`);
      }
      const closure = await findClosure(id);
      if (!closure) throw new ShopRecordNotFoundError(`shop closure ${id}`);
      return closure;
    },

    findClosure,
    activeClosureOf,

    async latestClosureOf(shopId: string): Promise<ShopClosure | undefined> {
      const row = await db<ClosureRow>('shop_closures')
        .where({ shop_id: shopId })
        .orderBy([
          { column: 'requested_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .first();
      return row ? toClosure(row) : undefined;
    },
  };
}

export type ShopRepository = ReturnType<typeof createShopRepository>;
