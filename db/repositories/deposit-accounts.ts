import type { Knex } from 'knex';

/**
 * Read models of the deposit process. The money itself lives in the ledger (ledger.ts);
 * these rows say what a shop's deposit must be and which top-up episode is running, step by
 * step. Every write is safe to repeat, because activities are retried.
 */

export type DepositAccountStatus = 'open' | 'closed';

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

export class EpisodeConflictError extends Error {
  constructor(
    readonly shopId: string,
    readonly openEpisodeId: string,
  ) {
    super(`shop ${shopId} already has open deposit episode ${openEpisodeId}`);
    this.name = 'EpisodeConflictError';
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

export function createDepositAccountRepository(db: Knex) {
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

  async function openEpisodeOf(shopId: string): Promise<DepositEpisode | undefined> {
    const row = await db<EpisodeRow>('deposit_episodes').where({ shop_id: shopId }).whereNull('ended_at').first();
    return row ? (await withSteps([row]))[0] : undefined;
  }

  return {
    /** The monthly assessment; a later assessment replaces the earlier one. */
    async saveRequirement(shopId: string, r: { requiredFen: number; parts: unknown; month: string; at: Date }): Promise<void> {
      const assessment = { required_fen: r.requiredFen, requirement_parts: JSON.stringify(r.parts), assessed_for_month: r.month, assessed_at: r.at };
      await db('deposit_accounts')
        .insert({ shop_id: shopId, ...assessment })
        .onConflict('shop_id')
        .merge({ ...assessment, updated_at: db.fn.now() });
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
  };
}

export type DepositAccountRepository = ReturnType<typeof createDepositAccountRepository>;
