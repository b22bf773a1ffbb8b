import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { shopIdFor } from '../../db/repositories/merchants';
import { createQualificationRepository, QUALIFICATION_LIST_ORDER, type QualificationRow } from '../../db/repositories/qualifications';
import { createShopRepository } from '../../db/repositories/shops';
import { shanghaiDate } from '../../domain/calendar';
import { ProcessAlreadyRunning } from '../../domain/errors';
import { maskLicenceNumber, qualificationStatusOn } from '../../domain/qualifications';
import { qualificationCheckProcess, qualificationCheckWorkflowId } from '../../workflows/qualification-check.defs';
import { mayActFor, merchantNotFound, type Principal } from '../auth';
import { conflict, HttpError, notFound } from '../errors';
import { pageThrough } from '../pagination';
import { startProcess } from '../process-seam';
import type { QualificationListQuery, QualificationView, RecordQualificationBody, VerificationBody } from './schemas';

export interface QualificationServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  now?: () => Date;
}

const isOneCurrentViolation = (err: unknown): boolean => {
  const pg = err as { code?: unknown; constraint?: unknown } | null;
  return pg?.code === '23505' && pg.constraint === 'merchant_qualifications_one_current';
};
const newQualificationId = () => `qual_${randomBytes(12).toString('hex')}`;

export function viewOf(q: QualificationRow, today: string): QualificationView {
  return {
    qualificationId: q.id,
    merchantId: q.merchant_id,
    shopId: q.shop_id,
    kind: q.kind,
    numberMasked: q.number_masked,
    validFrom: q.valid_from,
    expiresOn: q.expires_on,
    status: qualificationStatusOn(q.expires_on, today),
    recordedBy: q.recorded_by,
    recordedAt: new Date(q.recorded_at).toISOString(),
    supersededBy: q.superseded_by,
    verification: q.verification,
    verifiedBy: q.verified_by,
    verifiedAt: q.verified_at ? new Date(q.verified_at).toISOString() : null,
    verificationReason: q.verification_reason,
  };
}

/** Merchants' qualifications and the monthly check, between HTTP and the database and the check's process. */
export function createQualificationService({ db, temporal, taskQueue, now = () => new Date() }: QualificationServiceDeps) {
  const qualifications = createQualificationRepository(db);
  const shops = createShopRepository(db);

  /** The merchant's shop; another merchant's is answered as a missing one, so ids cannot be probed. */
  async function shopOf(merchantId: string, principal: Principal): Promise<string> {
    if (!mayActFor(principal, merchantId)) throw merchantNotFound(merchantId);
    const shop = await shops.find(shopIdFor(merchantId));
    // One answer for a merchant without a shop, a missing one and another's: nothing to probe.
    if (!shop || shop.merchant_id !== merchantId) throw merchantNotFound(merchantId);
    return shop.id;
  }

  return {
    /**
     * Records a qualification, or renews one. Ops and admin vouch for what they record: it is
     * verified and supersedes the shop's current one of the kind. A merchant's record is pending
     * until ops verify it: it supersedes nothing and the check does not trust it meanwhile.
     */
    async record(merchantId: string, body: RecordQualificationBody, principal: Principal) {
      const shopId = await shopOf(merchantId, principal);
      const { row, superseded } = await qualifications
        .record({
        id: newQualificationId(),
        merchantId,
        shopId,
        kind: body.kind,
        // The clear number goes no further than this line.
        numberMasked: body.number === undefined ? null : maskLicenceNumber(body.number),
        validFrom: body.validFrom,
        expiresOn: body.expiresOn,
        recordedBy: principal.sub,
        verification: principal.role === 'merchant' ? 'pending' : 'verified',
      })
        .catch((err: unknown) => {
          // Two first records of one kind at once: the unique index let one through.
          if (isOneCurrentViolation(err)) throw conflict(`another ${body.kind} was recorded for merchant ${merchantId} meanwhile: read the list and renew it`);
          throw err;
        });
      return { ...viewOf(row, shanghaiDate(now())), supersedes: superseded };
    },

    /** Ops' decision on a merchant's pending record; anything else already decided is a 409. */
    async verify(merchantId: string, qualificationId: string, body: VerificationBody, principal: Principal) {
      await shopOf(merchantId, principal);
      const decided = await qualifications.verify({ id: qualificationId, merchantId, decision: body.decision, by: principal.sub, reason: body.reason }).catch((err: unknown) => {
        if (isOneCurrentViolation(err)) throw conflict(`another qualification of the kind was verified for merchant ${merchantId} meanwhile: try again`);
        throw err;
      });
      if (decided.outcome === 'missing') throw notFound(`merchant ${merchantId} has no qualification ${qualificationId}`);
      if (decided.outcome === 'not_pending') {
        throw new HttpError(409, 'qualification_not_pending', `qualification ${qualificationId} is already ${decided.row.verification}`, { verification: decided.row.verification });
      }
      return { ...viewOf(decided.row, shanghaiDate(now())), supersedes: decided.superseded };
    },

    async list(merchantId: string, { limit, cursor }: QualificationListQuery, principal: Principal) {
      await shopOf(merchantId, principal);
      const today = shanghaiDate(now());
      return pageThrough({ list: 'qualifications', filters: { merchantId } }, QUALIFICATION_LIST_ORDER, { cursor, limit }, (after, n) => qualifications.page({ merchantId }, after, n), (q) => viewOf(q, today));
    },

    /**
     * Runs the check for the current Shanghai month now. A check of the month still running is
     * joined (`joined: true`), not doubled; a finished month is checked again, which opens no
     * second case and sends no second notice.
     */
    async startCheck(requested: string | undefined) {
      const month = shanghaiDate(now()).slice(0, 7);
      if (requested !== undefined && requested !== month) {
        throw new HttpError(409, 'not_current_month', `the check judges by today: only the current month (${month}) can be run now`, { currentMonth: month });
      }
      const workflowId = qualificationCheckWorkflowId(month);
      try {
        await startProcess(temporal, {
          process: qualificationCheckProcess,
          workflowId,
          taskQueue,
          input: { month },
          conflictPolicy: 'FAIL',
          reusePolicy: 'ALLOW_DUPLICATE',
          searchAttributes: { status: 'running' },
          about: { period: month },
        });
        return { month, workflowId, joined: false };
      } catch (err) {
        if (err instanceof ProcessAlreadyRunning) return { month, workflowId, joined: true };
        throw err;
      }
    },

    async checkOf(month: string) {
      const run = await qualifications.run(month);
      if (!run) throw notFound(`no qualification check has run for ${month}`);
      return { ...run, startedAt: new Date(run.startedAt).toISOString(), finishedAt: run.finishedAt ? new Date(run.finishedAt).toISOString() : null };
    },
  };
}

export type QualificationService = ReturnType<typeof createQualificationService>;
