import { ApplicationFailure } from '@temporalio/common';
import { Context, log } from '@temporalio/activity';
import type { MerchantRepository } from '../db/repositories/merchants';
import { IdentityTakenError, type IdentityKeyRepository } from '../db/repositories/identity-keys';
import type { VerificationCaseRepository } from '../db/repositories/verification-cases';
import type { PlatformClient } from '../platform/types';
import { CalendarYearNotLoadedError, calendarOf, planWorkingDayDeadline, type CalendarSource, type WorkingDayCalendar } from '../domain/calendar';
import type { EntityType, ReviewPolicy } from '../domain/verification';
import { ErrorType } from '../domain/errors';
import type { CaseHistoryEntry, VerificationStatus } from '../workflows/verification.defs';

export interface VerificationActivityDeps {
  cases: VerificationCaseRepository;
  merchants: MerchantRepository;
  identityKeys: IdentityKeyRepository;
  platform: PlatformClient;
  /** A source when the data may change while the worker runs (years loaded by ops). */
  calendar: WorkingDayCalendar | CalendarSource;
  policy: ReviewPolicy;
}

/** Case fields the workflow changes, as ISO strings (history carries JSON). */
export interface CasePatchInput {
  status?: VerificationStatus;
  deadline?: string | null;
  overdue?: boolean;
  resubmitBy?: string | null;
  closedAt?: string | null;
  deadlineProvisional?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the merchant's own record says while a case is at each status. */
const MERCHANT_STATUS: Record<VerificationStatus, string> = {
  in_review: 'in_review',
  awaiting_resubmission: 'in_review',
  approved: 'verified',
  rejected: 'rejected',
  abandoned: 'abandoned',
  // A case waiting for ops is still under review; one ops closed leaves the merchant free to file again.
  needs_attention: 'in_review',
  closed_by_ops: 'abandoned',
};

const toDate = (iso: string | null | undefined) => (iso === undefined ? undefined : iso === null ? null : new Date(iso));

/** Another merchant holding the number will not change by retrying. */
export async function identityRefusalsAreFinal<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof IdentityTakenError) throw ApplicationFailure.nonRetryable(err.message, ErrorType.IdentityTaken);
    throw err;
  }
}

export function createVerificationActivities(deps: VerificationActivityDeps) {
  const { cases, merchants, identityKeys, platform, calendar, policy } = deps;

  return {
    /** Confirms the API recorded the case; retried while its transaction may still land. */
    async openCase(input: { caseId: string; merchantId: string }): Promise<void> {
      const found = await cases.findCase(input.caseId);
      if (!found) {
        throw ApplicationFailure.retryable(`case ${input.caseId} is not recorded yet`, ErrorType.SubmissionNotRecorded);
      }
      // The start stores the run id right after starting; if that write failed (the database
      // went away in between), the run ties its case itself here, before any update can need it.
      const runId = Context.current().info.workflowExecution?.runId;
      if (found.run_id === null && runId) await cases.tieRunIfUntied(input.caseId, runId);
    },

    async planReviewDeadline(input: { entityType: EntityType; submittedAt: string }) {
      const workingDays = policy.slaWorkingDays[input.entityType];
      const cal = await calendarOf(calendar);
      try {
        const { deadline, provisional } = planWorkingDayDeadline(new Date(input.submittedAt), workingDays, cal);
        // provisional: counted on the provisional calendar of a year without official data.
        return { deadline: deadline.toISOString(), workingDays, provisional };
      } catch (err) {
        if (err instanceof CalendarYearNotLoadedError) {
          // Only a year the provisional calendar cannot answer (beyond its lunar tables, or
          // before the official data) gets here. Retryable: once the year is loaded, the case goes on.
          log.error('working-day calendar is missing a year', { year: err.year });
          throw ApplicationFailure.retryable(err.message, ErrorType.CalendarYearNotLoaded, { year: err.year });
        }
        throw err;
      }
    },

    async planResubmissionDeadline(input: { requestedAt: string }) {
      const resubmitBy = new Date(Date.parse(input.requestedAt) + policy.resubmitWindowDays * DAY_MS);
      return { resubmitBy: resubmitBy.toISOString(), windowDays: policy.resubmitWindowDays };
    },

    async recordCaseEvent(input: {
      caseId: string;
      merchantId: string;
      event: CaseHistoryEntry;
      patch: CasePatchInput;
    }): Promise<void> {
      const { event, patch } = input;
      await cases.applyEvent(
        { case_id: input.caseId, seq: event.seq, type: event.type, actor: event.actor, at: new Date(event.at), details: event.details },
        {
          status: patch.status,
          deadline: toDate(patch.deadline),
          overdue: patch.overdue,
          resubmitBy: toDate(patch.resubmitBy),
          closedAt: toDate(patch.closedAt),
          deadlineProvisional: patch.deadlineProvisional,
        },
      );
      if (patch.status) await merchants.setVerificationStatus(input.merchantId, MERCHANT_STATUS[patch.status]);
    },

    async escalateOverdueCase(input: { caseId: string; merchantId: string; deadline: string }): Promise<void> {
      await platform.notify(
        {
          recipient: 'supervisor',
          merchantId: input.merchantId,
          template: 'verification_overdue',
          data: { caseId: input.caseId, deadline: input.deadline },
        },
        `verification:${input.caseId}:escalation:${input.deadline}`,
      );
    },

    async notifyMerchant(input: { caseId: string; merchantId: string; seq: number; template: string }): Promise<void> {
      await platform.notify(
        { recipient: 'merchant', merchantId: input.merchantId, template: input.template, data: { caseId: input.caseId } },
        `verification:${input.caseId}:notify:${input.seq}`,
      );
    },

    /**
     * Approval: the merchant is verified, holds its identity number, and its shop record
     * exists (docs/rules.md §1). A number another merchant holds is a final refusal.
     */
    async activateMerchant(input: { caseId: string; merchantId: string; entityType: EntityType }): Promise<{ shopId: string }> {
      const found = await cases.findCase(input.caseId);
      if (!found) throw ApplicationFailure.nonRetryable(`case ${input.caseId} is not recorded`, ErrorType.RecordNotFound);
      const shop = await identityRefusalsAreFinal(async () =>
        merchants.markVerified({
          merchantId: input.merchantId,
          caseId: input.caseId,
          entityType: input.entityType,
          legalName: found.legal_name,
          at: new Date(),
          identity: await identityKeys.latestIdentityOf(input.caseId),
        }),
      );
      return { shopId: shop.id };
    },
  };
}

export type VerificationActivities = ReturnType<typeof createVerificationActivities>;
