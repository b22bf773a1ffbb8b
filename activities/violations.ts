import { ApplicationFailure, Context } from '@temporalio/activity';
import { closeStoreBindings } from './store-binding';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { createDepositAccountRepository } from '../db/repositories/deposit-accounts';
import { createLedger } from '../db/repositories/ledger';
import { createShopRepository, type RestrictionSource } from '../db/repositories/shops';
import { createViolationRepository, ViolationCaseNotFoundError, type ViolationCase } from '../db/repositories/violations';
import { CalendarYearNotLoadedError, calendarOf, type CalendarSource, type WorkingDayCalendar } from '../domain/calendar';
import { ClosureAlreadyActive, ErrorType, ShopAlreadyClosed } from '../domain/errors';
import { decideLevel, planAppealDeadline, effectEndsAt, penaltyFor, type PenaltyRestriction, type ViolationPolicy } from '../domain/violations';
import type { PlatformClient } from '../platform/types';
import { deductUpdate, depositWorkflowId, reverseDeductionUpdate } from '../workflows/deposit-account.defs';
import { cancelClosureUpdate, closureWorkflowId } from '../workflows/shop-closure.defs';
import type { AppealState, CaseDecision, ViolationStatus } from '../workflows/violation-case.defs';
import { liftOwnRestrictions } from './restrictions';
import { updateAccepted } from './update-accepted';
import { requestShopClosure } from './shop-closure-start';

export interface ViolationActivityDeps {
  db: Db;
  platform: PlatformClient;
  /** A source when the data may change while the worker runs (years loaded by ops). */
  calendar: WorkingDayCalendar | CalendarSource;
  policy: ViolationPolicy;
  /** Fines and their refunds go through the shop's deposit process; a ban starts a closure. */
  temporal?: Client;
}

/** What a case holds on the platform, each part under its own source so each lifts alone. */
export type RestrictionPart = 'suspension' | 'effect' | 'permanent';
const sourceOf = (caseId: string, part: RestrictionPart): RestrictionSource => `violation:${caseId}:${part}`;
const FINE_REFERENCE = (caseId: string) => `violation:${caseId}:fine`;

function restrictionsOf(c: ViolationCase, part: RestrictionPart): PenaltyRestriction[] {
  const p = c.penalty!;
  if (part === 'suspension') return p.suspendSalesUntil ? ['stop_sales'] : [];
  return part === 'effect' ? p.restrictionsForEffect : p.permanentRestrictions;
}

export function createViolationActivities({ db, platform, calendar, policy, temporal }: ViolationActivityDeps) {
  const cases = createViolationRepository(db);
  const shops = createShopRepository(db);
  const accounts = createDepositAccountRepository(db);
  const ledger = createLedger(db);

  const caseOf = async (caseId: string) => {
    try {
      return await cases.get(caseId);
    } catch (err) {
      // The API records the case before it starts the process; a missing row is a lag, not an end.
      if (err instanceof ViolationCaseNotFoundError) throw ApplicationFailure.retryable(err.message, ErrorType.SubmissionNotRecorded);
      throw err;
    }
  };
  const client = (): Client => {
    if (!temporal) throw ApplicationFailure.nonRetryable('violation activities need a Temporal client for fines and closures', ErrorType.RecordNotFound);
    return temporal;
  };

  /**
   * Balances move only through the deposit process, so the shortfall ladder sees every fine. The
   * whole fine is taken: the deposit pays what it holds, the rest is owed and the ladder asks for
   * it. The deposit process accepting the deduction is the case's part done; its handler posts it
   * to the ledger (under the reference, once) right after.
   */
  async function fine(c: ViolationCase): Promise<number> {
    const reference = FINE_REFERENCE(c.id);
    const earlier = await ledger.findByKey(`deduction:${c.shopId}:${reference}`);
    if (earlier) return earlier.entries.find((e) => e.account === 'platform_income')!.amountFen;
    const amount = c.penalty!.fineFen;
    try {
      const deduction = { account: 'deposit' as const, amountFen: amount, reason: `fine: violation ${c.id} (${c.level})`, reference, actor: `violation:${c.id}`, owing: true };
      await updateAccepted(client().workflow.getHandle(depositWorkflowId(c.shopId)), deductUpdate, deduction, reference);
    } catch (err) {
      // A shop closed meanwhile has no deposit left to fine (its refund went out); any other
      // refusal is retried, and shows on the activity in the Web UI.
      if ((await accounts.find(c.shopId))?.status === 'closed') return 0;
      throw err;
    }
    return amount;
  }

  async function record(caseId: string, type: string, actor: string, at: Date, details: Record<string, unknown> = {}) {
    await cases.recordEvent(caseId, { type, actor, at, details });
  }

  return {
    /** Judges the case against the shop's record as of the workflow's time; once. */
    async openViolationCase(input: { caseId: string; asOf: string }): Promise<CaseDecision> {
      const asOf = new Date(input.asOf);
      await caseOf(input.caseId);
      const cal = await calendarOf(calendar);
      try {
        const decision = await cases.decide(input.caseId, asOf, (shopRecord, c) => {
          const level = decideLevel(c.reportedLevel, shopRecord.inEffect, shopRecord.pointsThisYear, policy);
          const appeal = planAppealDeadline(level.level, asOf, cal, policy);
          return {
            level: level.level,
            escalatedBecause: level.escalatedBecause,
            points: level.points,
            penalty: penaltyFor(level, c.type, asOf, policy),
            appealDeadline: appeal.deadline,
            appealDeadlineProvisional: appeal.provisional,
            effectEndsAt: effectEndsAt(level.level, asOf, policy),
          };
        });
        await record(input.caseId, 'opened', 'system', asOf, { ...decision, penalty: undefined });
        return decision;
      } catch (err) {
        if (err instanceof CalendarYearNotLoadedError) throw ApplicationFailure.retryable(err.message, ErrorType.CalendarYearNotLoaded, { year: err.year });
        throw err;
      }
    },

    /**
     * Counts the open appeal window again on the calendar as it stands now (after ops loaded
     * official data for a year it crossed). Nothing changes once the window is no longer
     * open. openedAt is the instant the window was first counted from (the workflow's).
     * The event is keyed by the new deadline, so a retry records it once.
     */
    async replanAppealDeadline(input: { caseId: string; openedAt: string; asOf: string }): Promise<{ appealDeadline: string | null; provisional: boolean; changed: boolean }> {
      const c = await caseOf(input.caseId);
      const before = c.appealDeadline ? c.appealDeadline.toISOString() : null;
      if (c.status !== 'appealable' || before === null) return { appealDeadline: before, provisional: c.appealDeadlineProvisional, changed: false };
      try {
        const planned = planAppealDeadline(c.level, new Date(input.openedAt), await calendarOf(calendar), policy);
        const changed = planned.deadline !== before || planned.provisional !== c.appealDeadlineProvisional;
        if (changed && (await cases.replanAppealDeadline(c.id, planned.deadline!, planned.provisional))) {
          const details = { from: before, to: planned.deadline, provisional: planned.provisional };
          await record(c.id, `appeal_deadline_replanned:${planned.deadline}:${planned.provisional}`, 'system', new Date(input.asOf), details);
        }
        return { appealDeadline: planned.deadline, provisional: planned.provisional, changed };
      } catch (err) {
        if (err instanceof CalendarYearNotLoadedError) throw ApplicationFailure.retryable(err.message, ErrorType.CalendarYearNotLoaded, { year: err.year });
        throw err;
      }
    },

    /** Every part of the penalty, each under a key of the case, so a retry does nothing twice. */
    async applyViolationPenalty(input: { caseId: string; asOf: string }) {
      const c = await caseOf(input.caseId);
      const asOf = new Date(input.asOf);
      const p = c.penalty!;
      const done: Record<string, unknown> = {};
      if (p.delistProducts && c.evidence.productIds.length > 0) {
        await platform.delistProducts(c.shopId, { productIds: c.evidence.productIds, reason: `violation ${c.id}` }, `violation:${c.id}:delist`);
        done.delisted = c.evidence.productIds;
      }
      if (p.fineFen > 0) {
        done.fineFen = await fine(c);
        await cases.setFineDeducted(c.id, done.fineFen as number);
      }
      for (const part of ['suspension', 'effect', 'permanent'] as const) {
        const restrictions = restrictionsOf(c, part);
        if (restrictions.length === 0) continue;
        await platform.setRestrictions(c.shopId, { action: 'apply', restrictions, reason: `violation ${c.id} (${c.level})` }, `violation:${c.id}:${part}`);
        await shops.applyRestrictions(c.shopId, restrictions, sourceOf(c.id, part), asOf);
        done[part] = restrictions;
        if (part === 'permanent' && restrictions.includes('disable_api')) done.bindingsClosed = await closeStoreBindings(db, client(), c.shopId, c.id, asOf);
      }
      if (p.forfeitUnsettledCommission) {
        await cases.raiseForfeitFlag(c.merchantId, c.id, asOf);
        done.forfeitUnsettledCommission = true;
      }
      if (p.startClosure) done.closure = await startClosure(c);
      await platform.notify(
        { recipient: 'merchant', merchantId: c.merchantId, template: 'violation_penalty', data: { caseId: c.id, level: c.level, type: c.type, appealDeadline: c.appealDeadline?.toISOString() ?? null } },
        `violation:${c.id}:notice`,
      );
      await record(c.id, 'penalty_applied', 'system', asOf, done);
      return done;
    },

    /** Lifts one part of what the case holds, leaving whatever anything else holds. */
    async liftViolationRestrictions(input: { caseId: string; part: RestrictionPart; reason: string; asOf: string }) {
      const c = await caseOf(input.caseId);
      const lifted = await liftOwnRestrictions(shops, platform, {
        shopId: c.shopId,
        source: sourceOf(c.id, input.part),
        idempotencyKey: `violation:${c.id}:lift:${input.part}`,
        reason: input.reason,
      });
      await record(c.id, `${input.part}_lifted`, 'system', new Date(input.asOf), { lifted });
      return lifted;
    },

    async recordViolationStatus(input: { caseId: string; status: ViolationStatus; event?: string; actor?: string; asOf: string; appeal?: AppealState; details?: Record<string, unknown> }) {
      const at = new Date(input.asOf);
      const final = input.status === 'expired' || input.status === 'reversed';
      await cases.setStatus(input.caseId, input.status, { appeal: input.appeal, closedAt: final ? at : undefined });
      if (input.event) await record(input.caseId, input.event, input.actor ?? 'system', at, input.details);
    },

    /**
     * An upheld appeal undoes the penalty: products relisted, the fine returned to the
     * deposit (through the deposit process, which ends a shortfall it caused), every
     * restriction of the case lifted, points no longer counted (the case is reversed),
     * forfeited commission restored (paid back if a statement had already taken it).
     */
    async reverseViolationPenalty(input: { caseId: string; asOf: string; reviewer: string }) {
      const c = await caseOf(input.caseId);
      const asOf = new Date(input.asOf);
      const done: Record<string, unknown> = {};
      if (c.penalty!.delistProducts && c.evidence.productIds.length > 0) {
        await platform.relistProducts(c.shopId, { productIds: c.evidence.productIds, reason: `appeal upheld: violation ${c.id}` }, `violation:${c.id}:relist`);
        done.relisted = c.evidence.productIds;
      }
      if (c.fineDeductedFen > 0) {
        // The fine was handed over once accepted: its reversal waits until the ledger holds it.
        const reference = FINE_REFERENCE(c.id);
        if (!(await ledger.findByKey(`deduction:${c.shopId}:${reference}`))) {
          throw ApplicationFailure.retryable(`the fine of violation ${c.id} is not in the ledger yet`, ErrorType.SubmissionNotRecorded);
        }
        const reversal = { deductionReference: reference, reason: `appeal upheld: fine of violation ${c.id} returned`, actor: input.reviewer };
        await updateAccepted(client().workflow.getHandle(depositWorkflowId(c.shopId)), reverseDeductionUpdate, reversal, `reversal:${reference}`);
        done.fineRefundedFen = c.fineDeductedFen;
      }
      for (const part of ['suspension', 'effect', 'permanent'] as const) {
        done[`${part}Lifted`] = await liftOwnRestrictions(shops, platform, {
          shopId: c.shopId,
          source: sourceOf(c.id, part),
          idempotencyKey: `violation:${c.id}:reverse:${part}`,
          reason: `appeal upheld: violation ${c.id}`,
        });
      }
      if (c.penalty!.startClosure) done.closureCancelled = await cancelPenaltyClosure(c, input.reviewer);
      const restored = await cases.restoreForfeitFlag(c.id, asOf);
      if (restored && restored.forfeitedFen > 0) {
        await platform.payout({ merchantId: c.merchantId, period: restored.consumedPeriod!, amountFen: restored.forfeitedFen }, `violation:${c.id}:restore-commission`);
        done.commissionRestoredFen = restored.forfeitedFen;
      }
      await platform.notify(
        { recipient: 'merchant', merchantId: c.merchantId, template: 'violation_reversed', data: { caseId: c.id } },
        `violation:${c.id}:reversed`,
      );
      return done;
    },
  };

  /**
   * The reversal of a ban lifts the closure it started: the one path that closure accepts a
   * cancellation from. None running (refunded and closed already, or never started) is no error.
   */
  async function cancelPenaltyClosure(c: ViolationCase, reviewer: string): Promise<boolean> {
    try {
      // Accepted is enough: the closure's handler answers once its loop has recorded the cancellation.
      await updateAccepted(client().workflow.getHandle(closureWorkflowId(c.shopId)), cancelClosureUpdate, { actor: reviewer, reversalOf: c.id }, `cancel:violation:${c.id}`);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return false;
      throw err;
    }
  }

  /** A permanent ban closes the shop through the same flow a merchant's request starts. */
  async function startClosure(c: ViolationCase): Promise<string> {
    try {
      const started = await requestShopClosure(
        { db, temporal: client(), taskQueue: Context.current().info.taskQueue },
        // The actor the closure row has always recorded for a ban (`<role>:<sub>`).
        { shopId: c.shopId, requestedBy: `admin:violation:${c.id}`, penaltyCaseId: c.id },
      );
      return started.closureId;
    } catch (err) {
      // Already closing (a retry, or the merchant asked first) or closed: the shop goes either way.
      if (err instanceof ClosureAlreadyActive || err instanceof ShopAlreadyClosed) return 'already closing';
      throw err;
    }
  }
}

export type ViolationActivities = ReturnType<typeof createViolationActivities>;
