import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { unstorableTextIssues } from '../domain/text';
import { badRequest } from './errors';

/** safeParse, or a 400 that names each bad field. Handlers use only the parsed value. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  const issues = result.success ? [] : result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  // Text that cannot be stored is refused even where the schema lets any string through: a
  // process must never be handed what the database will refuse for ever. A field the schema
  // already refused (an id that is no id) keeps the schema's message alone.
  const named = new Set(issues.map((i) => i.path));
  const unstorable = unstorableTextIssues(value).filter((i) => !named.has(i.path));
  if (issues.length > 0 || unstorable.length > 0) throw badRequest(`${what} is invalid`, [...issues, ...unstorable]);
  return (result as { data: z.output<S> }).data;
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
