import type { Knex } from 'knex';

/**
 * Read models of the deposit and shop-closure processes. The money itself lives in the
 * ledger (ledger.ts); these rows say what is required, which top-up episode is running,
 * which restrictions hold, and where a closure stands. Every write is safe to repeat,
 * because activities are retried.
 */

export type DepositAccountStatus = 'open' | 'closed';
/** Who holds a restriction: the deposit ladder, a closure, or one violation case (`violation:<caseId>:<part>`). */
export type RestrictionSource = 'deposit' | 'closure' | 'promotion-closure' | `violation:${string}`;
export type CategoryStatus = 'open' | 'closed';

export interface DepositAccount {
  shopId: string;
  requiredFen: number;
  /** How the requirement was made up (base, special categories, sales tier). */
  parts: unknown;
  assessedForMonth: string | null;
  assessedAt: Date | null;
  status: DepositAccountStatus;
  updatedAt: Date;
}

export interface EpisodeStep {
  step: string;
  at: Date;
  details: Record<string, unknown>;
}

export interface DepositEpisode {
  id: string;
  shopId: string;
  startedAt: Date;
  endedAt: Date | null;
  requiredFen: number;
  balanceAtStartFen: number;
  endReason: string | null;
  schedule: unknown;
  steps: EpisodeStep[];
}

export interface NewEpisode {
  id: string;
  shopId: string;
  startedAt: Date;
  requiredFen: number;
  balanceAtStartFen: number;
  schedule: unknown;
}

export interface ShopRestriction {
  restriction: string;
  source: RestrictionSource;
  since: Date;
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

export interface NewClosure {
  id: string;
  shopId: string;
  workflowId: string;
  status: string;
  requestedBy: string;
  requestedAt: Date;
  details?: Record<string, unknown>;
}

/** `details` is merged into what is stored; the other fields replace it. */
export interface ClosurePatch {
  status?: string;
  refundedFen?: number | null;
  closedAt?: Date | null;
  cancelledAt?: Date | null;
  details?: Record<string, unknown>;
}

export interface ShopCategory {
  category: string;
  status: CategoryStatus;
}

/** Closure statuses after which another closure may be requested. */
const FINISHED_CLOSURE = ['closed', 'cancelled'];

export class EpisodeConflictError extends Error {
  constructor(
    readonly shopId: string,
    readonly openEpisodeId: string,
  ) {
    super(`shop ${shopId} already has open deposit episode ${openEpisodeId}`);
    this.name = 'EpisodeConflictError';
  }
}

export class ClosureConflictError extends Error {
  constructor(
    readonly shopId: string,
    readonly activeClosureId: string,
  ) {
    super(`shop ${shopId} already has active closure ${activeClosureId}`);
    this.name = 'ClosureConflictError';
  }
}

export class DepositRecordNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} is not recorded`);
    this.name = 'DepositRecordNotFoundError';
  }
}

interface DepositAccountRow {
  shop_id: string;
  required_fen: number;
  requirement_parts: unknown;
  assessed_for_month: string | null;
  assessed_at: Date | null;
  status: DepositAccountStatus;
  updated_at: Date;
}

interface EpisodeRow {
  id: string;
  shop_id: string;
  started_at: Date;
  ended_at: Date | null;
  required_fen: number;
  balance_at_start_fen: number;
  end_reason: string | null;
  schedule: unknown;
}

interface StepRow {
  episode_id: string;
  step: string;
  at: Date;
  details: Record<string, unknown>;
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

const toAccount = (r: DepositAccountRow): DepositAccount => ({
  shopId: r.shop_id,
  requiredFen: r.required_fen,
  parts: r.requirement_parts,
  assessedForMonth: r.assessed_for_month,
  assessedAt: r.assessed_at,
  status: r.status,
  updatedAt: r.updated_at,
});

const toEpisode = (r: EpisodeRow, steps: EpisodeStep[]): DepositEpisode => ({
  id: r.id,
  shopId: r.shop_id,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  requiredFen: r.required_fen,
  balanceAtStartFen: r.balance_at_start_fen,
  endReason: r.end_reason,
  schedule: r.schedule,
  steps,
});

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

export function createDepositRepository(db: Knex) {
  async function withSteps(rows: EpisodeRow[]): Promise<DepositEpisode[]> {
    if (rows.length === 0) return [];
    const steps = await db<StepRow>('deposit_episode_steps')
      .whereIn(
        'episode_id',
        rows.map((r) => r.id),
      )
      .orderBy([{ column: 'at' }, { column: 'step' }]);
    return rows.map((r) =>
      toEpisode(
        r,
        steps.filter((s) => s.episode_id === r.id).map((s) => ({ step: s.step, at: s.at, details: s.details })),
      ),
    );
  }

  async function findEpisode(id: string): Promise<DepositEpisode | undefined> {
    const row = await db<EpisodeRow>('deposit_episodes').where({ id }).first();
    return row ? (await withSteps([row]))[0] : undefined;
  }

  async function findClosure(id: string): Promise<ShopClosure | undefined> {
    const row = await db<ClosureRow>('shop_closures').where({ id }).first();
    return row ? toClosure(row) : undefined;
  }

  async function activeClosureOf(shopId: string): Promise<ShopClosure | undefined> {
    const row = await db<ClosureRow>('shop_closures').where({ shop_id: shopId }).whereNotIn('status', FINISHED_CLOSURE).first();
    return row ? toClosure(row) : undefined;
  }

  async function openEpisodeOf(shopId: string): Promise<DepositEpisode | undefined> {
    const row = await db<EpisodeRow>('deposit_episodes').where({ shop_id: shopId }).whereNull('ended_at').first();
    return row ? (await withSteps([row]))[0] : undefined;
  }

  return {
    /** The monthly assessment; a later assessment replaces the earlier one. */
    async saveRequirement(shopId: string, r: { requiredFen: number; parts: unknown; month: string; at: Date }): Promise<void> {
      await db('deposit_accounts')
        .insert({
          shop_id: shopId,
          required_fen: r.requiredFen,
          requirement_parts: JSON.stringify(r.parts),
          assessed_for_month: r.month,
          assessed_at: r.at,
        })
        .onConflict('shop_id')
        .merge({
          required_fen: r.requiredFen,
          requirement_parts: JSON.stringify(r.parts),
          assessed_for_month: r.month,
          assessed_at: r.at,
          updated_at: db.fn.now(),
        });
    },

    async find(shopId: string): Promise<DepositAccount | undefined> {
      const row = await db<DepositAccountRow>('deposit_accounts').where({ shop_id: shopId }).first();
      return row ? toAccount(row) : undefined;
    },

    /**
     * Open deposit accounts with their shop type, ordered by shop id, after the cursor
     * `after` (exclusive; '' starts at the beginning): a page of the monthly reassessment.
     */
    async openAccountsAfter(after: string, limit: number): Promise<Array<DepositAccount & { shopType: string }>> {
      const rows = await db<DepositAccountRow>('deposit_accounts as d')
        .join('shops as s', 's.id', 'd.shop_id')
        .where('d.status', 'open')
        .andWhere('d.shop_id', '>', after)
        .orderBy('d.shop_id')
        .limit(limit)
        .select<Array<DepositAccountRow & { shop_type: string }>>('d.*', 's.shop_type');
      return rows.map((r) => ({ ...toAccount(r), shopType: r.shop_type }));
    },

    async markClosed(shopId: string): Promise<void> {
      const changed = await db('deposit_accounts').where({ shop_id: shopId }).update({ status: 'closed', updated_at: db.fn.now() });
      if (changed === 0) throw new DepositRecordNotFoundError(`deposit account of ${shopId}`);
    },

    /**
     * Starts an episode; the same id again is a no-op (`opened: false`). Another open
     * episode of the shop is a conflict: a shop has at most one at a time.
     */
    async openEpisode(e: NewEpisode): Promise<{ opened: boolean; episode: DepositEpisode }> {
      const inserted = await db('deposit_episodes')
        .insert({
          id: e.id,
          shop_id: e.shopId,
          started_at: e.startedAt,
          required_fen: e.requiredFen,
          balance_at_start_fen: e.balanceAtStartFen,
          schedule: JSON.stringify(e.schedule),
        })
        .onConflict()
        .ignore()
        .returning('id');
      const episode = await findEpisode(e.id);
      if (episode) return { opened: inserted.length > 0, episode };
      const open = await openEpisodeOf(e.shopId);
      throw new EpisodeConflictError(e.shopId, open?.id ?? 'unknown');
    },

    /** Records that a ladder step happened; the first record of a step stands. */
    async recordStep(episodeId: string, step: string, at: Date, details: Record<string, unknown> = {}): Promise<{ recorded: boolean }> {
      const inserted = await db('deposit_episode_steps')
        .insert({ episode_id: episodeId, step, at, details: JSON.stringify(details) })
        .onConflict(['episode_id', 'step'])
        .ignore()
        .returning('step');
      return { recorded: inserted.length > 0 };
    },

    /** Ends an episode once; a later call keeps the first end time and reason. */
    async closeEpisode(id: string, endedAt: Date, reason: string): Promise<{ closed: boolean }> {
      const changed = await db('deposit_episodes').where({ id }).whereNull('ended_at').update({ ended_at: endedAt, end_reason: reason });
      if (changed > 0) return { closed: true };
      if (!(await findEpisode(id))) throw new DepositRecordNotFoundError(`deposit episode ${id}`);
      return { closed: false };
    },

    openEpisodeOf,

    async isEpisodeOpen(id: string): Promise<boolean> {
      const row = await db<EpisodeRow>('deposit_episodes').where({ id }).whereNull('ended_at').first('id');
      return row !== undefined;
    },

    /** The shop's episodes, newest first, each with its steps in order. */
    async episodes(shopId: string): Promise<DepositEpisode[]> {
      const rows = await db<EpisodeRow>('deposit_episodes').where({ shop_id: shopId }).orderBy([
        { column: 'started_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ]);
      return withSteps(rows);
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
        if (changed === 0) throw new DepositRecordNotFoundError(`shop closure ${id}`);
      }
      const closure = await findClosure(id);
      if (!closure) throw new DepositRecordNotFoundError(`shop closure ${id}`);
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

    /**
     * Violation cases still undecided: being opened, or open to an appeal or appealed. A
     * case in effect (or permanent) is decided: it holds restrictions, not the closure.
     */
    async openViolationCount(shopId: string): Promise<number> {
      const row = await db('violation_cases')
        .where({ shop_id: shopId })
        .whereIn('status', ['opening', 'appealable', 'appealed'])
        .first<{ count: number }>(db.raw('COUNT(*)::bigint AS count'));
      return row?.count ?? 0;
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

    async setShopStatus(shopId: string, status: string): Promise<void> {
      const changed = await db('shops').where({ id: shopId }).update({ status, updated_at: db.fn.now() });
      if (changed === 0) throw new DepositRecordNotFoundError(`shop ${shopId}`);
    },
  };
}

export type DepositRepository = ReturnType<typeof createDepositRepository>;
