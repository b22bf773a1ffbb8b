import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { createViolationRepository } from '../db/repositories/violations';
import { createVerificationCaseRepository } from '../db/repositories/verification-cases';
import { shanghaiDate, type CalendarSource } from '../domain/calendar';
import { calendarUpdatedSignal } from '../workflows/violation-case.defs';
import { reviewCalendarUpdatedSignal } from '../workflows/verification.defs';

/*
 * The re-plan after official calendar data arrives, for its two callers: the worker at start
 * (data loaded while it was down) and the API when ops load a year. Here, below the API, so
 * the worker needs nothing from api/.
 */

export interface CalendarReplanDeps {
  db: Db;
  temporal: Client;
  calendar: CalendarSource;
}

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

/**
 * Signals each open process whose provisional deadline the official data now covers; their
 * workflow ids. Repeating it is harmless: a process whose deadline is already official
 * ignores the signal.
 */
export async function replanProvisional({ db, temporal, calendar }: CalendarReplanDeps): Promise<string[]> {
  const violations = createViolationRepository(db);
  const reviews = createVerificationCaseRepository(db);
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
