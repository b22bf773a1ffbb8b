import type { Knex } from 'knex';
import { forfeitureRepaidFen } from '../../domain/settlement';
import { pointsInNaturalYear, type PenaltyPlan, type ViolationLevel, type ViolationType } from '../../domain/violations';
import type { AppealState, CaseDecision, ViolationEvidence, ViolationStatus } from '../../workflows/violation-case.defs';
import { forfeitedLinesRefundedFen } from './settlement/queries';

export interface ViolationCase {
  id: string;
  merchantId: string;
  shopId: string;
  type: ViolationType;
  reportedLevel: ViolationLevel;
  level: ViolationLevel;
  escalatedBecause: CaseDecision['escalatedBecause'];
  status: ViolationStatus;
  points: number;
  penalty: PenaltyPlan | null;
  evidence: ViolationEvidence;
  openedBy: string;
  openedAt: Date;
  closedAt: Date | null;
  appealDeadline: Date | null;
  appealDeadlineProvisional: boolean;
  effectEndsAt: Date | null;
  appeal: AppealState | null;
  fineDeductedFen: number;
  workflowId: string | null;
  reference: string | null;
  /** SHA-256 of the opening request's canonical JSON: tells a retry from another request under the reference. */
  requestFingerprint: string | null;
}

export interface ViolationEvent {
  type: string;
  actor: string;
  at: Date;
  details: Record<string, unknown>;
}

export interface NewViolationCase {
  id: string;
  merchantId: string;
  shopId: string;
  type: ViolationType;
  level: ViolationLevel;
  evidence: ViolationEvidence;
  openedBy: string;
  openedAt: Date;
  workflowId: string;
  /** The business reference the case was opened under, unique across shops, with its request's fingerprint. */
  reference?: { reference: string; fingerprint: string };
}

/** What opening under a reference found: the new case, or the one the reference already names. */
export type OpenOnce = { opened: true } | { opened: false; existing: ViolationCase };

/** A `violation_cases` row as the database returns it. */
export interface CaseRow {
  id: string;
  merchant_id: string;
  shop_id: string;
  type: ViolationType;
  reported_level: ViolationLevel | null;
  level: ViolationLevel;
  escalated_because: CaseDecision['escalatedBecause'];
  status: ViolationStatus;
  points: number;
  penalty: PenaltyPlan | null;
  evidence: ViolationEvidence;
  opened_by: string | null;
  opened_at: Date;
  closed_at: Date | null;
  appeal_deadline: Date | null;
  appeal_deadline_provisional: boolean;
  effect_ends_at: Date | null;
  appeal: AppealState | null;
  fine_deducted_fen: number | string;
  workflow_id: string | null;
  reference: string | null;
  request_fingerprint: string | null;
}

const toCase = (r: CaseRow): ViolationCase => ({
  id: r.id,
  merchantId: r.merchant_id,
  shopId: r.shop_id,
  type: r.type,
  reportedLevel: r.reported_level ?? r.level,
  level: r.level,
  escalatedBecause: r.escalated_because,
  status: r.status,
  points: r.points,
  penalty: r.penalty,
  evidence: r.evidence,
  openedBy: r.opened_by ?? 'unknown',
  openedAt: r.opened_at,
  closedAt: r.closed_at,
  appealDeadline: r.appeal_deadline,
  appealDeadlineProvisional: r.appeal_deadline_provisional,
  effectEndsAt: r.effect_ends_at,
  appeal: r.appeal,
  fineDeductedFen: Number(r.fine_deducted_fen),
  workflowId: r.workflow_id,
  reference: r.reference,
  requestFingerprint: r.request_fingerprint,
});

/** Cases that count against a shop while their effect period runs. */
const COUNTING_STATUSES: ViolationStatus[] = ['appealable', 'appealed', 'in_effect', 'permanent'];
const FINAL_STATUSES: ViolationStatus[] = ['expired', 'reversed'];

export class ViolationCaseNotFoundError extends Error {
  constructor(readonly caseId: string) {
    super(`violation case ${caseId} is not recorded`);
    this.name = 'ViolationCaseNotFoundError';
  }
}

/** The shop's record a new case is judged against. */
export interface ShopRecord {
  inEffect: ViolationLevel[];
  pointsThisYear: number;
}

export function createViolationRepository(db: Knex) {
  async function find(caseId: string, q: Knex = db): Promise<ViolationCase | undefined> {
    const row = await q<CaseRow>('violation_cases').where({ id: caseId }).first();
    return row ? toCase(row) : undefined;
  }

  async function get(caseId: string, q: Knex = db): Promise<ViolationCase> {
    const found = await find(caseId, q);
    if (!found) throw new ViolationCaseNotFoundError(caseId);
    return found;
  }

  return {
    find: (caseId: string) => find(caseId),
    get: (caseId: string) => get(caseId),

    /**
     * Records a new case, unless its reference already names one: then nothing is written
     * and the case found is answered with its fingerprint. The unique index decides, so of
     * two requests racing under one reference exactly one records its case.
     */
    async insert(c: NewViolationCase): Promise<OpenOnce> {
      const inserted = await db('violation_cases')
        .insert({
          id: c.id,
          merchant_id: c.merchantId,
          shop_id: c.shopId,
          type: c.type,
          level: c.level,
          reported_level: c.level,
          status: 'opening',
          evidence: JSON.stringify(c.evidence),
          opened_by: c.openedBy,
          opened_at: c.openedAt,
          workflow_id: c.workflowId,
          reference: c.reference?.reference ?? null,
          request_fingerprint: c.reference?.fingerprint ?? null,
        })
        .onConflict('reference')
        .ignore()
        .returning('id');
      if (inserted.length > 0 || !c.reference) return { opened: true };
      const row = await db<CaseRow>('violation_cases').where({ reference: c.reference.reference }).first();
      // Gone between the two statements (an unstarted case forgotten): the caller may try again.
      if (!row) throw new ViolationCaseNotFoundError(`under reference ${c.reference.reference}`);
      return { opened: false, existing: toCase(row) };
    },

    async findByReference(reference: string): Promise<ViolationCase | undefined> {
      const row = await db<CaseRow>('violation_cases').where({ reference }).first();
      return row ? toCase(row) : undefined;
    },

    async listByMerchant(merchantId: string): Promise<ViolationCase[]> {
      const rows = await db<CaseRow>('violation_cases').where({ merchant_id: merchantId }).orderBy('opened_at', 'desc').orderBy('id');
      return rows.map(toCase);
    },

    async events(caseId: string): Promise<ViolationEvent[]> {
      const rows = await db('violation_events').where({ case_id: caseId }).orderBy('id');
      return rows.map((r: { type: string; actor: string; at: Date; details: Record<string, unknown> }) => ({ type: r.type, actor: r.actor, at: r.at, details: r.details }));
    },

    /**
     * Decides a case once, against the shop's record at `asOf`, under a per-shop lock so two
     * cases opened together see each other: the first decided counts for the second. A
     * repeated call (a retried activity) answers the decision already stored.
     */
    async decide(caseId: string, asOf: Date, decideWith: (record: ShopRecord, c: ViolationCase) => CaseDecision & { points: number }): Promise<CaseDecision> {
      return db.transaction(async (trx) => {
        const opened = await get(caseId, trx);
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`violations:${opened.shopId}`]);
        const c = await get(caseId, trx);
        if (c.status !== 'opening') return decisionOf(c);
        const others = await trx<CaseRow>('violation_cases')
          .where({ shop_id: c.shopId })
          .whereNot({ id: caseId })
          .whereNotIn('status', ['opening', ...FINAL_STATUSES]);
        const inEffect = others
          .filter((o) => COUNTING_STATUSES.includes(o.status) && (o.effect_ends_at === null || o.effect_ends_at > asOf))
          .map((o) => o.level);
        // The year's points are counted by the one rule in domain/ (natural year, Asia/Shanghai).
        const earlier: Array<Pick<CaseRow, 'opened_at' | 'points' | 'status'>> = await trx('violation_cases')
          .where({ shop_id: c.shopId })
          .whereNot({ id: caseId })
          .where('points', '>', 0)
          .select('opened_at', 'points', 'status');
        const pointsThisYear = pointsInNaturalYear(
          earlier.map((o) => ({ openedAt: new Date(o.opened_at), points: o.points, reversed: o.status === 'reversed' })),
          asOf,
        );
        const decision = decideWith({ inEffect, pointsThisYear }, c);
        await trx('violation_cases')
          .where({ id: caseId })
          .update({
            level: decision.level,
            escalated_because: decision.escalatedBecause,
            points: decision.points,
            penalty: JSON.stringify(decision.penalty),
            appeal_deadline: decision.appealDeadline,
            appeal_deadline_provisional: decision.appealDeadlineProvisional ?? false,
            effect_ends_at: decision.effectEndsAt,
            status: decision.appealDeadline === null ? 'permanent' : 'appealable',
          });
        const { level, escalatedBecause, penalty, appealDeadline, appealDeadlineProvisional, effectEndsAt } = decision;
        return { level, escalatedBecause, penalty, appealDeadline, appealDeadlineProvisional, effectEndsAt };
      });
    },

    async setStatus(caseId: string, status: ViolationStatus, patch: { appeal?: AppealState; closedAt?: Date } = {}): Promise<void> {
      const update: Record<string, unknown> = { status };
      if (patch.appeal) update.appeal = JSON.stringify(patch.appeal);
      if (patch.closedAt) update.closed_at = patch.closedAt;
      const changed = await db('violation_cases').where({ id: caseId }).update(update);
      if (changed === 0) throw new ViolationCaseNotFoundError(caseId);
    },

    /** A new appeal deadline, only while the window is still open (an appeal filed keeps its case). */
    async replanAppealDeadline(caseId: string, deadline: string, provisional: boolean): Promise<boolean> {
      const changed = await db('violation_cases')
        .where({ id: caseId, status: 'appealable' })
        .update({ appeal_deadline: new Date(deadline), appeal_deadline_provisional: provisional });
      return changed > 0;
    },

    /** Cases whose open appeal window was counted on the provisional calendar. */
    async withProvisionalAppealDeadline(): Promise<Array<{ workflowId: string; deadline: Date }>> {
      const rows = await db<CaseRow>('violation_cases')
        .where({ appeal_deadline_provisional: true, status: 'appealable' })
        .whereNotNull('workflow_id')
        .select('workflow_id', 'appeal_deadline')
        .orderBy('id');
      return rows.map((r) => ({ workflowId: r.workflow_id!, deadline: r.appeal_deadline! }));
    },

    async setFineDeducted(caseId: string, fen: number): Promise<void> {
      await db('violation_cases').where({ id: caseId }).update({ fine_deducted_fen: fen });
    },

    /** Once per case and type: a retried step records nothing new. */
    async recordEvent(caseId: string, event: ViolationEvent): Promise<void> {
      await db('violation_events')
        .insert({ case_id: caseId, type: event.type, actor: event.actor, at: event.at, details: JSON.stringify(event.details) })
        .onConflict(['case_id', 'type'])
        .ignore();
    },

    /** Removes a case still being opened (its process never started); a case past 'opening' stays. */
    async discardOpening(caseId: string): Promise<void> {
      await db('violation_cases').where({ id: caseId, status: 'opening' }).delete();
    },

    /**
     * The shop's cases still undecided: being opened, or open to an appeal or appealed. A
     * case in effect (or permanent) is decided: it holds restrictions, not a closure.
     */
    async undecidedCountOf(shopId: string): Promise<number> {
      const row = await db('violation_cases')
        .where({ shop_id: shopId })
        .whereIn('status', ['opening', 'appealable', 'appealed'])
        .first<{ count: number }>(db.raw('COUNT(*)::bigint AS count'));
      return row?.count ?? 0;
    },

    /** False advertising: the merchant's unsettled commission is forfeited by the next statement. */
    async raiseForfeitFlag(merchantId: string, caseId: string, since: Date): Promise<void> {
      const existing = await db('merchant_flags').where({ case_id: caseId, flag: 'forfeit_unsettled' }).first();
      if (existing) return;
      await db('merchant_flags').insert({ merchant_id: merchantId, flag: 'forfeit_unsettled', since, case_id: caseId }).onConflict(['merchant_id', 'flag', 'since']).ignore();
    },

    /**
     * Takes the case's forfeiture back. A flag no statement used yet simply ends (it never
     * forfeits). Flags used by one statement share its forfeiture (their forfeited_fen sum to
     * it), and one standing flag forfeits it all: so while another flag of the statement still
     * stands, this flag hands its share on to it and pays back nothing; the last one upheld
     * pays back the whole forfeiture, less the commission of forfeited lines refunded since
     * (never paid, so never taken back). Repeated, it answers the same amount (restored_fen).
     */
    async restoreForfeitFlag(caseId: string, at: Date): Promise<{ consumedPeriod: string | null; forfeitedFen: number } | undefined> {
      return db.transaction(async (trx) => {
        const seen = await trx('merchant_flags').where({ case_id: caseId, flag: 'forfeit_unsettled' }).first();
        if (!seen) return undefined;
        // Every flag the statement used, locked in one order, so two appeals upheld at once
        // queue instead of deadlocking or both seeing the other still standing.
        const locked = await trx('merchant_flags')
          .where({ merchant_id: seen.merchant_id, flag: 'forfeit_unsettled' })
          .andWhere((w) => {
            void w.where({ case_id: caseId });
            if (seen.consumed_period !== null) void w.orWhere({ consumed_period: seen.consumed_period });
          })
          .orderBy(['since', 'case_id'])
          .forUpdate();
        const flag = locked.find((f) => f.case_id === caseId)!;
        const mine = { merchant_id: flag.merchant_id, flag: 'forfeit_unsettled', since: flag.since };
        if (flag.consumed_period !== seen.consumed_period) throw new Error(`forfeiture flag of case ${caseId} was used meanwhile; retry`);
        if (flag.restored_at) return { consumedPeriod: flag.consumed_period as string | null, forfeitedFen: Number(flag.restored_fen ?? 0) };
        if (flag.consumed_period === null) {
          await trx('merchant_flags').where(mine).update({ until: flag.since, restored_at: at, restored_fen: 0 });
          return { consumedPeriod: null, forfeitedFen: 0 };
        }
        const share = Number(flag.forfeited_fen ?? 0);
        const standing = locked.find((f) => f.case_id !== caseId && f.restored_at === null);
        if (standing) {
          await trx('merchant_flags')
            .where({ merchant_id: standing.merchant_id, flag: 'forfeit_unsettled', since: standing.since })
            .update({ forfeited_fen: Number(standing.forfeited_fen ?? 0) + share });
          await trx('merchant_flags').where(mine).update({ forfeited_fen: 0, restored_at: at, restored_fen: 0 });
          return { consumedPeriod: flag.consumed_period as string, forfeitedFen: 0 };
        }
        const refunded = await forfeitedLinesRefundedFen(trx, flag.merchant_id as string, flag.consumed_period as string);
        const restoredFen = forfeitureRepaidFen(share, refunded);
        await trx('merchant_flags').where(mine).update({ restored_at: at, restored_fen: restoredFen });
        return { consumedPeriod: flag.consumed_period as string, forfeitedFen: restoredFen };
      });
    },
  };
}

function decisionOf(c: ViolationCase): CaseDecision {
  return {
    level: c.level,
    escalatedBecause: c.escalatedBecause,
    penalty: c.penalty!,
    appealDeadline: c.appealDeadline ? c.appealDeadline.toISOString() : null,
    appealDeadlineProvisional: c.appealDeadlineProvisional,
    effectEndsAt: c.effectEndsAt ? c.effectEndsAt.toISOString() : null,
  };
}

export type ViolationRepository = ReturnType<typeof createViolationRepository>;
