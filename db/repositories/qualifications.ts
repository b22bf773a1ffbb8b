import type { Knex } from 'knex';
import type { QualificationCheckCounts, QualificationFinding, QualificationKind, QualificationVerification } from '../../domain/qualifications';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

export const QUALIFICATION_LIST_ORDER: readonly SortKey[] = [{ sql: 'id', type: 'text', direction: 'asc' }];

export interface QualificationRow {
  id: string;
  merchant_id: string;
  shop_id: string;
  kind: QualificationKind;
  number_masked: string | null;
  /** 'YYYY-MM-DD' (the pg date parser is set to text). */
  valid_from: string;
  expires_on: string;
  recorded_by: string;
  recorded_at: Date;
  superseded_by: string | null;
  verification: QualificationVerification;
  verified_by: string | null;
  verified_at: Date | null;
  verification_reason: string | null;
}

export interface NewQualification {
  id: string;
  merchantId: string;
  shopId: string;
  kind: QualificationKind;
  numberMasked: string | null;
  validFrom: string;
  expiresOn: string;
  recordedBy: string;
  /** `verified` when ops or admin record it (they vouch for it at once); a merchant's is `pending`. */
  verification: 'pending' | 'verified';
}

export type QualificationNotice = 'expiring' | 'case_opened' | 'case_refused';

/** What the check recorded about a finding, and which run of the check recorded it. */
export interface NoticeRow {
  qualification_id: string;
  case_id: string | null;
  reason: string | null;
  run_id: string;
}

export type VerifyOutcome = { outcome: 'decided'; row: QualificationRow; superseded: string | null } | { outcome: 'missing' } | { outcome: 'not_pending'; row: QualificationRow };

export interface CheckRunRow extends QualificationCheckCounts {
  month: string;
  workflowId: string;
  status: 'running' | 'completed';
  checkedOn: string;
  startedAt: Date;
  finishedAt: Date | null;
}

// Dates as the calendar days they are, whatever the server's or the process's time zone.
const dateText = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

export function createQualificationRepository(db: Knex) {
  // Built on use: the worker's registry check builds activities over a stand-in without `raw`.
  const columns = () => [
    'id',
    'merchant_id',
    'shop_id',
    'kind',
    'number_masked',
    db.raw(`${dateText('valid_from')} AS valid_from`),
    db.raw(`${dateText('expires_on')} AS expires_on`),
    'recorded_by',
    'recorded_at',
    'superseded_by',
    'verification',
    'verified_by',
    'verified_at',
    'verification_reason',
  ];

  /** The shop's current verified row of the kind steps aside for `id` (the unique index allows one). */
  async function supersedeCurrent(trx: Knex.Transaction, shopId: string, kind: QualificationKind, id: string): Promise<string | null> {
    const current = await trx('merchant_qualifications')
      .where({ shop_id: shopId, kind, verification: 'verified' })
      .whereNull('superseded_by')
      .forUpdate()
      .first<{ id: string } | undefined>('id');
    if (current) await trx('merchant_qualifications').where({ id: current.id }).update({ superseded_by: id });
    return current?.id ?? null;
  }

  return {
    /**
     * Records a qualification. A verified renewal (the shop already has a current verified one
     * of the kind) supersedes it in the same transaction, so the check sees one current row per
     * kind; a pending one supersedes nothing until it is verified.
     */
    async record(q: NewQualification): Promise<{ row: QualificationRow; superseded: string | null }> {
      return db.transaction(async (trx) => {
        const superseded = q.verification === 'verified' ? await supersedeCurrent(trx, q.shopId, q.kind, q.id) : null;
        const [row] = await trx('merchant_qualifications')
          .insert({
            id: q.id,
            merchant_id: q.merchantId,
            shop_id: q.shopId,
            kind: q.kind,
            number_masked: q.numberMasked,
            valid_from: q.validFrom,
            expires_on: q.expiresOn,
            recorded_by: q.recordedBy,
            verification: q.verification,
            ...(q.verification === 'verified' ? { verified_by: q.recordedBy, verified_at: trx.fn.now() } : {}),
          })
          .returning<QualificationRow[]>(columns() as string[]);
        return { row: row!, superseded };
      });
    },

    /**
     * Ops' decision on a merchant's pending record: verified, it supersedes the shop's current
     * verified one of the kind and is what the check trusts from then on; rejected, it stays on
     * the list with the reason and counts for nothing.
     */
    async verify(v: { id: string; merchantId: string; decision: 'verify' | 'reject'; by: string; reason: string }): Promise<VerifyOutcome> {
      return db.transaction(async (trx) => {
        const pending = await trx('merchant_qualifications').where({ id: v.id, merchant_id: v.merchantId }).forUpdate().first<QualificationRow | undefined>(columns());
        if (!pending) return { outcome: 'missing' };
        if (pending.verification !== 'pending') return { outcome: 'not_pending', row: pending };
        const superseded = v.decision === 'verify' ? await supersedeCurrent(trx, pending.shop_id, pending.kind, pending.id) : null;
        const [row] = await trx('merchant_qualifications')
          .where({ id: v.id })
          .update({ verification: v.decision === 'verify' ? 'verified' : 'rejected', verified_by: v.by, verified_at: trx.fn.now(), verification_reason: v.reason })
          .returning<QualificationRow[]>(columns() as string[]);
        return { outcome: 'decided', row: row!, superseded };
      });
    },

    /** One page of a merchant's qualifications, renewed ones included, by id. */
    async page(filters: { merchantId: string }, after: Position | undefined, limit: number): Promise<KeysetPage<QualificationRow>> {
      const q = db('merchant_qualifications').select(columns()).where('merchant_id', filters.merchantId);
      return keysetPage<QualificationRow>(db, q, QUALIFICATION_LIST_ORDER, after, limit);
    },

    /**
     * Current verified qualifications expiring on or before `horizon`, after `afterId`, by id:
     * the only ones the check acts on. A renewed one is superseded and never read again; a
     * pending or rejected one is not vouched for.
     */
    async dueBy(horizon: string, afterId: string, limit: number): Promise<QualificationRow[]> {
      return db('merchant_qualifications')
        .whereNull('superseded_by')
        .where('verification', 'verified')
        .where('expires_on', '<=', horizon)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .select<QualificationRow[]>(columns());
    },

    async noticeOf({ shopId, kind, expiresOn }: QualificationFinding, notice: QualificationNotice): Promise<NoticeRow | undefined> {
      return db('qualification_notices').where({ shop_id: shopId, kind, expires_on: expiresOn, notice }).first('qualification_id', 'case_id', 'reason', 'run_id');
    },

    /** Once per (shop, kind, expiry, notice), whichever row it was found on: a second write is ignored. */
    async recordNotice(n: { finding: QualificationFinding; qualificationId: string; notice: QualificationNotice; caseId?: string; reason?: string; month: string; runId: string }): Promise<void> {
      await db('qualification_notices')
        .insert({
          shop_id: n.finding.shopId,
          kind: n.finding.kind,
          expires_on: n.finding.expiresOn,
          notice: n.notice,
          qualification_id: n.qualificationId,
          case_id: n.caseId ?? null,
          reason: n.reason ?? null,
          check_month: n.month,
          run_id: n.runId,
        })
        .onConflict(['shop_id', 'kind', 'expires_on', 'notice'])
        .ignore();
    },

    /** A month's run starts (again): its counts start from nothing. */
    async startRun(month: string, workflowId: string, checkedOn: string): Promise<void> {
      const fresh = { workflow_id: workflowId, status: 'running', checked_on: checkedOn, checked: 0, expiring: 0, expired: 0, notified: 0, cases_opened: 0, skipped: 0, started_at: db.fn.now(), finished_at: null };
      await db('qualification_check_runs').insert({ month, ...fresh }).onConflict('month').merge(fresh);
    },

    async saveRun(month: string, counts: QualificationCheckCounts, done: boolean): Promise<void> {
      await db('qualification_check_runs')
        .where({ month })
        .update({
          checked: counts.checked,
          expiring: counts.expiring,
          expired: counts.expired,
          notified: counts.notified,
          cases_opened: counts.casesOpened,
          skipped: counts.skipped,
          ...(done ? { status: 'completed', finished_at: db.fn.now() } : {}),
        });
    },

    async run(month: string): Promise<CheckRunRow | undefined> {
      const r = await db('qualification_check_runs').where({ month }).first('*', db.raw(`${dateText('checked_on')} AS checked_on`));
      if (!r) return undefined;
      return {
        month: r.month,
        workflowId: r.workflow_id,
        status: r.status,
        checkedOn: r.checked_on,
        checked: r.checked,
        expiring: r.expiring,
        expired: r.expired,
        notified: r.notified,
        casesOpened: r.cases_opened,
        skipped: r.skipped,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
      };
    },
  };
}

export type QualificationRepository = ReturnType<typeof createQualificationRepository>;
