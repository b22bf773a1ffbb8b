import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../db/connection';
import { createCalendarYearRepository } from '../../db/repositories/calendar-years';
import { createViolationRepository } from '../../db/repositories/violations';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import type { CalendarData } from '../../domain/calendar';
import { calendarUpdatedSignal } from '../../workflows/violation-case.defs';
import { reviewCalendarUpdatedSignal } from '../../workflows/verification.defs';

/**
 * Official calendar years (docs/rules.md conventions): stored for every worker, then every
 * open process whose pending deadline was counted on the provisional calendar is signalled
 * to count it again (the signal and the new deadline go into its history). Repeating a load
 * is harmless: a process whose deadline is already official ignores the signal.
 */
export function createCalendarService({ db, temporal }: { db: Db; temporal: Client }) {
  const years = createCalendarYearRepository(db);
  const violations = createViolationRepository(db);
  const reviews = createVerificationCaseRepository(db);

  async function signal(workflowId: string, send: (id: string) => Promise<void>): Promise<boolean> {
    try {
      await send(workflowId);
      return true;
    } catch (err) {
      // Ended since the list was read: nothing left to re-plan.
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  return {
    async load(year: number, data: CalendarData, loadedBy: string, at: Date) {
      await years.save(year, data, loadedBy, at);
      const replanned: string[] = [];
      for (const c of await violations.withProvisionalAppealDeadline()) {
        if (await signal(c.workflowId, (id) => temporal.workflow.getHandle(id).signal(calendarUpdatedSignal))) replanned.push(c.workflowId);
      }
      for (const workflowId of await reviews.withProvisionalDeadline()) {
        if (await signal(workflowId, (id) => temporal.workflow.getHandle(id).signal(reviewCalendarUpdatedSignal))) replanned.push(workflowId);
      }
      return { year, holidays: Object.keys(data.holidays).length, workdays: Object.keys(data.workdays).length, replanned };
    },
  };
}

export type CalendarService = ReturnType<typeof createCalendarService>;
