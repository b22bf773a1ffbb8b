import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../db/connection';
import { createCalendarYearRepository } from '../../db/repositories/calendar-years';
import { createViolationRepository } from '../../db/repositories/violations';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { shanghaiDate, type CalendarData, type CalendarSource } from '../../domain/calendar';
import { calendarUpdatedSignal } from '../../workflows/violation-case.defs';
import { reviewCalendarUpdatedSignal } from '../../workflows/verification.defs';

/**
 * Official calendar years (docs/rules.md conventions): stored for every worker, then every
 * open process whose pending deadline was counted on the provisional calendar, and whose
 * deadline now falls in a year with official data, is signalled to count it again (the
 * signal and the new deadline go into its history). Repeating it is harmless: a process
 * whose deadline is already official ignores the signal.
 */
export function createCalendarService({ db, temporal, calendar }: { db: Db; temporal: Client; calendar: CalendarSource }) {
  const years = createCalendarYearRepository(db);
  const violations = createViolationRepository(db);
  const reviews = createVerificationCaseRepository(db);

  async function signal(send: () => Promise<void>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (err) {
      // Ended since the list was read: nothing left to re-plan.
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Signals each open process whose provisional deadline the official data now covers; their workflow ids. */
  async function replanProvisional(): Promise<string[]> {
    const current = await calendar.current();
    const covered = ({ deadline }: { deadline: Date }) => current.covers(shanghaiDate(deadline));
    const replanned: string[] = [];
    for (const { workflowId } of (await violations.withProvisionalAppealDeadline()).filter(covered)) {
      if (await signal(() => temporal.workflow.getHandle(workflowId).signal(calendarUpdatedSignal))) replanned.push(workflowId);
    }
    for (const { workflowId } of (await reviews.withProvisionalDeadline()).filter(covered)) {
      if (await signal(() => temporal.workflow.getHandle(workflowId).signal(reviewCalendarUpdatedSignal))) replanned.push(workflowId);
    }
    return replanned;
  }

  return {
    replanProvisional,
    async load(year: number, data: CalendarData, loadedBy: string, at: Date) {
      await years.save(year, data, loadedBy, at);
      const replanned = await replanProvisional();
      return { year, holidays: Object.keys(data.holidays).length, workdays: Object.keys(data.workdays).length, replanned };
    },
  };
}

export type CalendarService = ReturnType<typeof createCalendarService>;
