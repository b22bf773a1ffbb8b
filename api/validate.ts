import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { unstorableTextIssues } from '../domain/text';
import { badRequest } from './errors';

/** safeParse, or a 400 that names each bad field. Handlers use only the parsed value. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  // Text that cannot be stored is refused before any schema sees it: a schema that lets a
  // string through must never hand a process something the database will refuse for ever.
  const unstorable = unstorableTextIssues(value);
  if (unstorable.length > 0) throw badRequest(`${what} is invalid`, unstorable);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  throw badRequest(`${what} is invalid`, issues);
}

/**
 * The same check for every request, after the JSON parser: a body or query no route parses
 * (or parses only in part) is refused here. Path parameters go through `parse` in each route.
 */
export const refuseUnstorableText: RequestHandler = (req, _res, next) => {
  const issues = [
    ...unstorableTextIssues(req.body ?? {}),
    ...unstorableTextIssues(req.query ?? {}).map((i) => ({ ...i, path: `query.${i.path}` })),
  ];
  if (issues.length > 0) return next(badRequest('the request contains text that cannot be stored', issues));
  next();
};
