import type { Knex } from 'knex';

export type CaseKind = 'verification' | 'entity_change';

/** Rows of a verification case as the read model keeps them. */
export interface CaseRow {
  id: string;
  merchant_id: string;
  workflow_id: string;
  run_id: string | null;
  /** A first verification, or a verified merchant's change of entity. */
  kind: CaseKind;
  entity_type: string;
  legal_name: string;
  status: string;
  submitted_at: Date;
  deadline: Date | null;
  overdue: boolean;
  resubmit_by: Date | null;
  closed_at: Date | null;
}

export interface CaseEventRow {
  case_id: string;
  seq: number;
  type: string;
  actor: string;
  at: Date;
  details: Record<string, unknown>;
}

/** What a workflow activity may change on a case; the workflow is its only writer. */
export interface CasePatch {
  status?: string;
  deadline?: Date | null;
  overdue?: boolean;
  resubmitBy?: Date | null;
  closedAt?: Date | null;
  /** The deadline counted days of a year without official calendar data. */
  deadlineProvisional?: boolean;
}

export interface NewCase {
  id: string;
  merchantId: string;
  workflowId: string;
  /** Set once its process has started (setRunId): the case is recorded before its run exists. */
  runId?: string;
  entityType: string;
  legalName: string;
  submittedAt: Date;
  kind?: CaseKind;
}

const OPEN_STATUSES = ['in_review', 'awaiting_resubmission', 'needs_attention'];

export function createVerificationCaseRepository(db: Knex) {
  /** insertCase's statement, not yet run: to run with others as one (db/one-statement.ts). */
  const caseInsert = (c: NewCase, trx: Knex = db): Knex.QueryBuilder =>
    trx('verification_cases').insert({
      id: c.id,
      merchant_id: c.merchantId,
      workflow_id: c.workflowId,
      run_id: c.runId ?? null,
      kind: c.kind ?? 'verification',
      entity_type: c.entityType,
      legal_name: c.legalName,
      status: 'in_review',
      submitted_at: c.submittedAt,
    });

  return {
    async insertCase(c: NewCase, trx: Knex = db): Promise<void> {
      await caseInsert(c, trx);
    },

    caseInsert,

    /** Ties a case to its process's run, so later updates reach that run and never a later case's. */
    async setRunId(caseId: string, runId: string): Promise<void> {
      await db('verification_cases').where({ id: caseId }).update({ run_id: runId, updated_at: db.fn.now() });
    },

    /**
     * Ties a case to its run unless it is tied already: the run's first step does this, so a
     * case whose start could not store the run id is tied all the same (process-start.ts).
     */
    async tieRunIfUntied(caseId: string, runId: string): Promise<void> {
      await db('verification_cases').where({ id: caseId }).whereNull('run_id').update({ run_id: runId, updated_at: db.fn.now() });
    },

    /**
     * Takes back a case whose process never started: its submissions, events and the case,
     * in one transaction. Only a case without a run: a started one is the process's.
     */
    async deleteUnstartedCase(caseId: string): Promise<void> {
      await db.transaction(async (trx) => {
        const unstarted = await trx('verification_cases').where({ id: caseId }).whereNull('run_id').forUpdate().first();
        if (!unstarted) return;
        await trx('verification_submissions').where({ case_id: caseId }).delete();
        await trx('verification_events').where({ case_id: caseId }).delete();
        await trx('verification_cases').where({ id: caseId }).delete();
      });
    },

    async findCase(caseId: string): Promise<CaseRow | undefined> {
      return db<CaseRow>('verification_cases').where({ id: caseId }).first();
    },

    async findOpenCaseOf(merchantId: string): Promise<CaseRow | undefined> {
      return db<CaseRow>('verification_cases')
        .where({ merchant_id: merchantId })
        .whereIn('status', OPEN_STATUSES)
        .orderBy('created_at', 'desc')
        .first();
    },

    /** The merchant's cases filed before this one, newest first: what a reviewer weighs it against. */
    async listEarlierCasesOf(c: Pick<CaseRow, 'id' | 'merchant_id' | 'submitted_at'>): Promise<CaseRow[]> {
      return db<CaseRow>('verification_cases')
        .where({ merchant_id: c.merchant_id })
        .whereNot({ id: c.id })
        .where('submitted_at', '<=', c.submitted_at)
        .orderBy('submitted_at', 'desc');
    },

    async listEvents(caseId: string): Promise<CaseEventRow[]> {
      return db<CaseEventRow>('verification_events').where({ case_id: caseId }).orderBy('seq');
    },

    /** Workflow ids of reviews (first verifications and changes of entity) waiting on a provisional deadline. */
    async withProvisionalDeadline(): Promise<Array<{ workflowId: string; deadline: Date }>> {
      const rows = await db('verification_cases')
        .where({ deadline_provisional: true, status: 'in_review', overdue: false })
        .whereNotNull('deadline')
        .orderBy('id')
        .select('workflow_id', 'deadline');
      return rows.map((r: { workflow_id: string; deadline: Date }) => ({ workflowId: r.workflow_id, deadline: r.deadline }));
    },

    /**
     * Records one event and applies its patch in one transaction. The (case, seq) key
     * makes a retried activity a no-op, so the event is written once.
     */
    async applyEvent(event: CaseEventRow, patch: CasePatch): Promise<{ applied: boolean }> {
      return db.transaction(async (trx) => {
        const inserted = await trx('verification_events')
          .insert({ ...event, details: JSON.stringify(event.details) })
          .onConflict(['case_id', 'seq'])
          .ignore()
          .returning('seq');
        if (inserted.length === 0) return { applied: false };
        const update: Record<string, unknown> = { updated_at: trx.fn.now() };
        if (patch.status !== undefined) update.status = patch.status;
        if (patch.deadline !== undefined) update.deadline = patch.deadline;
        if (patch.overdue !== undefined) update.overdue = patch.overdue;
        if (patch.resubmitBy !== undefined) update.resubmit_by = patch.resubmitBy;
        if (patch.closedAt !== undefined) update.closed_at = patch.closedAt;
        if (patch.deadlineProvisional !== undefined) update.deadline_provisional = patch.deadlineProvisional;
        const changed = await trx('verification_cases').where({ id: event.case_id }).update(update);
        if (changed === 0) throw new CaseNotFoundError(event.case_id);
        return { applied: true };
      });
    },
  };
}

export class CaseNotFoundError extends Error {
  constructor(readonly caseId: string) {
    super(`verification case ${caseId} is not recorded`);
  }
}

export type VerificationCaseRepository = ReturnType<typeof createVerificationCaseRepository>;
