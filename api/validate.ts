import type { z } from 'zod';
import { badRequest } from './errors';

/** safeParse, or a 400 that names each bad field. Handlers use only the parsed value. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  throw badRequest(`${what} is invalid`, issues);
}
