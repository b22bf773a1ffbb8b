import type { Request, Router } from 'express';
import { z } from 'zod';

/** The one 400 body of the sandbox, so clients see the same shape on every route. */
export function invalidRequest(error: z.ZodError): { error: 'invalid_request'; issues: { path: string; code: string; message: string }[] } {
  return {
    error: 'invalid_request',
    issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message })),
  };
}

/** An amount of money in fen that must move something: a positive safe integer. */
export const positiveFenSchema = z.number().int().positive();

/** A calendar month, `YYYY-MM`, as the platform's reports name them. */
export const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM');

/**
 * A read route of the sandbox: its query parsed with `schema` (anything else is the one 400
 * body), its answer what `answer` returns for the parsed query.
 */
export function queryRoute<S extends z.ZodType>(router: Router, path: string, schema: S, answer: (query: z.output<S>, req: Request) => unknown): void {
  router.get(path, (req, res) => {
    const query = schema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    res.json(answer(query.data, req));
  });
}
