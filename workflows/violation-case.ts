import { allHandlersFinished, ApplicationFailure, condition, patched, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, type LocalActivityOptions } from '@temporalio/workflow';
import type { ViolationActivities } from '../activities/violations';
import { ErrorType } from '../domain/errors';
import { checkAppealReviewer, checkAppealTime } from '../domain/violations';
import { attentionGate, gated, StepAbandoned } from './attention';
import { NEEDS_ATTENTION } from './attention.defs';
import { businessStatus } from './business-status';
import { PROVISIONAL_DEADLINE } from './search-attributes';
import {
  appealUpdate,
  calendarUpdatedSignal,
  decideAppealUpdate,
  violationStateQuery,
  type AppealState,
  type ViolationCaseInput,
  type ViolationCaseState,
  type ViolationStatus,
} from './violation-case.defs';

const options: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  // A fine that the deposit process refuses (shop closed) would fail the same way again.
  retry: { initialInterval: '2 seconds', maximumInterval: '10 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected, ErrorType.RecordNotFound] },
};
const act = proxyActivities<ViolationActivities>(options);
// Judging a case and applying its penalty are a few writes and platform calls, none waiting on
// another process (a fine is handed over once the deposit process accepts it): run as local
// activities, inside the case's first workflow task, they need no activity task round trips and
// leave a marker each instead of a scheduled/started/completed triple. A risk scan opens cases by
// the hundred, so this is most of what a case costs the server. Runs from before replay theirs.
const local = proxyLocalActivities<ViolationActivities>(options);
const OPENING_AS_LOCAL_ACTIVITIES = 'case-opening-local-activities';

const FINAL: ViolationStatus[] = ['expired', 'reversed'];
const now = () => new Date().toISOString();

/**
 * One violation case (docs/rules.md §4): judged against the shop's record (a repeat
 * while a case of the same or higher level is in effect escalates one level), its penalty
 * applied at once through the platform and the deposit, open to one appeal within its
 * window of working days, lifted part by part by timers (a serious case's 7-day suspension,
 * then the effect period), reversed entirely by an upheld appeal. A permanent ban ends
 * here: it never lifts and cannot be appealed.
 */
export async function violationCase(input: ViolationCaseInput): Promise<ViolationCaseState> {
  const { caseId } = input;
  const state: ViolationCaseState = {
    caseId,
    merchantId: input.merchantId,
    shopId: input.shopId,
    type: input.type,
    reportedLevel: input.reportedLevel,
    status: 'opening',
    decision: null,
    appeal: null,
    suspensionLifted: false,
    attention: null,
  };
  const status = businessStatus(state);

  // A step the database refuses for good (an appeal statement or reasons it cannot store)
  // waits for ops. The case's own status is left as it stands (it counts towards the shop's
  // record); the Web UI's BusinessStatus and the case's events show the wait.
  const gate = attentionGate(() => state.status, {
    async enter(attention) {
      state.attention = attention;
      status.needsAttention();
      const { step, error, errorType, statusBefore } = attention;
      const details = { step, error, errorType };
      await act.recordViolationStatus({ caseId, status: statusBefore as ViolationStatus, event: `${NEEDS_ATTENTION}:${attention.since}`, asOf: now(), details });
    },
    async leave(attention, resolution) {
      state.attention = null;
      status.resume();
      const details = { step: attention.step, action: resolution.action, note: resolution.note ?? null };
      const event = `attention_resolved:${attention.since}`;
      await act.recordViolationStatus({ caseId, status: attention.statusBefore as ViolationStatus, event, actor: resolution.actor, asOf: now(), details });
    },
  });

  // The case's own steps have no free text, but one the database refuses waits for ops to retry.
  const loop = gated(act, gate);

  // Handlers first: an update may arrive with the first workflow task.
  setHandler(violationStateQuery, () => state);
  setHandler(
    appealUpdate,
    async (req) => {
      const before = state.status;
      const appeal: AppealState = { filedAt: now(), statement: req.statement, filedBy: req.actor, decision: null, decidedBy: null, decidedAt: null, reasons: [] };
      state.appeal = appeal;
      status.set('appealed');
      try {
        await gate.run(
          'record appeal_filed',
          () => act.recordViolationStatus({ caseId, status: 'appealed', event: 'appeal_filed', actor: req.actor, asOf: appeal.filedAt, appeal, details: { statement: req.statement } }),
          { abandonable: true, statusBefore: before },
        );
      } catch (err) {
        if (!(err instanceof StepAbandoned)) throw err;
        // Abandoned by ops: as if it was never filed, so the merchant may appeal again in time.
        state.appeal = null;
        status.set(before);
      }
      return state;
    },
    {
      validator: (req) => {
        if (!req.statement.trim()) throw new Error('an appeal needs a statement');
        if (state.decision === null) throw new Error(`case ${caseId} is still being opened`);
        if (state.appeal) throw new Error(`case ${caseId} was already appealed on ${state.appeal.filedAt}`);
        if (FINAL.includes(state.status)) throw new Error(`case ${caseId} is ${state.status}`);
        const check = checkAppealTime(state.decision.appealDeadline, new Date());
        if (!check.accepted) throw new Error(check.reason);
      },
    },
  );
  setHandler(
    decideAppealUpdate,
    async (req) => {
      const asOf = now();
      const pending = state.appeal!;
      state.appeal = { ...pending, decision: req.decision, decidedBy: req.reviewer, decidedAt: asOf, reasons: req.reasons };
      if (req.decision === 'rejected') {
        status.set('in_effect');
        const decided = state.appeal;
        try {
          await gate.run(
            'record appeal_rejected',
            () => act.recordViolationStatus({ caseId, status: 'in_effect', event: 'appeal_rejected', actor: req.reviewer, asOf, appeal: decided, details: { reasons: req.reasons } }),
            { abandonable: true, statusBefore: 'appealed' },
          );
        } catch (err) {
          if (!(err instanceof StepAbandoned)) throw err;
          // Abandoned by ops: the appeal waits for a decision again.
          state.appeal = pending;
          status.set('appealed');
        }
        return state;
      }
      status.set('reversed');
      const reversed = await loop.reverseViolationPenalty({ caseId, asOf, reviewer: req.reviewer });
      const upheld = state.appeal;
      // The penalty is already reversed: only a retry can finish recording it.
      await gate.run('record appeal_upheld', () =>
        act.recordViolationStatus({ caseId, status: 'reversed', event: 'appeal_upheld', actor: req.reviewer, asOf, appeal: upheld, details: { reasons: req.reasons, ...reversed } }),
      );
      return state;
    },
    {
      validator: (req) => {
        if (state.status !== 'appealed' || state.appeal?.decision) throw new Error(`case ${caseId} has no appeal waiting for a decision`);
        const reviewer = checkAppealReviewer(input.openedBy, req.reviewer);
        // Who may decide, not where the case stands: the seam answers it 403 (api/process-seam.ts).
        if (!reviewer.accepted) throw ApplicationFailure.create({ message: reviewer.reason, type: ErrorType.Forbidden, nonRetryable: true });
        if (req.decision === 'rejected' && req.reasons.length === 0) throw new Error('a rejected appeal needs its reasons');
      },
    },
  );

  // Official calendar data loaded by ops: a provisional window is counted again (below).
  let calendarUpdated = false;
  setHandler(calendarUpdatedSignal, () => {
    calendarUpdated = true;
  });

  const openedAt = now();
  const opening = patched(OPENING_AS_LOCAL_ACTIVITIES) ? gated(local, gate) : loop;
  const decision = await opening.openViolationCase({ caseId, asOf: openedAt });
  state.decision = decision;
  // Only a run whose window crossed into a year without official data ever sets it.
  if (decision.appealDeadlineProvisional) upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: true }]);
  status.set(decision.appealDeadline === null ? 'permanent' : 'appealable');
  await opening.applyViolationPenalty({ caseId, asOf: now() });
  const suspensionEnds = decision.penalty.suspendSalesUntil ? Date.parse(decision.penalty.suspendSalesUntil) : null;
  state.suspensionLifted = suspensionEnds === null;
  let appealCloses = decision.appealDeadline ? Date.parse(decision.appealDeadline) : null;
  const effectEnds = decision.effectEndsAt ? Date.parse(decision.effectEndsAt) : null;

  while (!FINAL.includes(state.status)) {
    const due: number[] = [];
    if (!state.suspensionLifted) due.push(suspensionEnds!);
    if (state.status === 'appealable') due.push(appealCloses!);
    // An appeal waiting for its decision holds the case open past its effect period.
    if (effectEnds !== null && state.status !== 'appealed') due.push(effectEnds);
    // A permanent ban has nothing left to wait for.
    if (due.length === 0 && state.status === 'permanent') break;

    const before = state.status;
    const changed = () => state.status !== before;
    const woken = () => changed() || calendarUpdated;
    if (due.length === 0) await condition(woken);
    else await condition(woken, Math.max(1, Math.min(...due) - Date.now()));
    if (FINAL.includes(state.status)) break;

    if (calendarUpdated) {
      calendarUpdated = false;
      // Runs recorded before re-planning existed never took this branch (no such signal).
      if (state.status === 'appealable' && state.decision?.appealDeadlineProvisional && patched('replan-provisional-appeal-deadline')) {
        const replanned = await loop.replanAppealDeadline({ caseId, openedAt, asOf: now() });
        state.decision = { ...state.decision, appealDeadline: replanned.appealDeadline, appealDeadlineProvisional: replanned.provisional };
        appealCloses = Date.parse(replanned.appealDeadline!);
        upsertSearchAttributes([{ key: PROVISIONAL_DEADLINE, value: replanned.provisional }]);
        continue;
      }
    }

    const t = Date.now();
    if (!state.suspensionLifted && t >= suspensionEnds!) {
      await loop.liftViolationRestrictions({ caseId, part: 'suspension', reason: `sales suspension of violation ${caseId} ended`, asOf: now() });
      state.suspensionLifted = true;
    }
    if (state.status === 'appealable' && t >= appealCloses!) {
      status.set('in_effect');
      await loop.recordViolationStatus({ caseId, status: 'in_effect', event: 'appeal_window_closed', asOf: now() });
    }
    if (effectEnds !== null && t >= effectEnds && (state.status === 'in_effect' || state.status === 'appealable')) {
      await loop.liftViolationRestrictions({ caseId, part: 'effect', reason: `effect period of violation ${caseId} ended`, asOf: now() });
      status.set('expired');
      await loop.recordViolationStatus({ caseId, status: 'expired', event: 'expired', asOf: now() });
    }
  }
  await condition(allHandlersFinished);
  status.final(state.status);
  return state;
}
