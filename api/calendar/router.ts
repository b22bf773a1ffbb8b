import { Router } from 'express';
import { requireRole } from '../auth';
import { badRequest } from '../errors';
import { describeRoute, json } from '../openapi';
import { parse } from '../validate';
import type { RouterDeps } from '../routes';
import type { CalendarService } from './service';
import { calendarYearBody, calendarYearLoaded, calendarYearParams, yearIssues } from './schemas';

export type CalendarRouterDeps = RouterDeps<CalendarService>;

/** Loading a year of official working-day data (admin). */
export function createCalendarRouter({ service, registry, limitMutations }: CalendarRouterDeps): Router {
  const router = Router();

  router.param('year', (_req, res, next, year: string) => {
    if (calendarYearParams.safeParse({ year }).success) res.locals.audit = { action: 'calendar.load', target: `calendar:${Number(year)}` };
    next();
  });

  describeRoute(registry, {
    method: 'put',
    path: '/v1/admin/calendar/{year}',
    summary: "Load a year's official working days (the State Council's notice); re-plans every open provisional deadline (admin)",
    request: { params: calendarYearParams, body: { required: true, ...json(calendarYearBody) } },
    responses: { 200: { description: 'stored; processes signalled', ...json(calendarYearLoaded) } },
  });
  router.put('/admin/calendar/:year', requireRole('admin'), limitMutations, async (req, res) => {
    const { year } = parse(calendarYearParams, req.params, 'year');
    const body = parse(calendarYearBody, req.body, 'calendar year');
    const issues = yearIssues(year, body);
    if (issues.length > 0) throw badRequest('calendar year is invalid', issues);
    res.json(await service.load(year, body, req.principal!.sub, new Date()));
  });
  return router;
}
