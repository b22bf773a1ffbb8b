import type { z } from 'zod';

/** The one 400 body of the sandbox, so clients see the same shape on every route. */
export function invalidRequest(error: z.ZodError): { error: 'invalid_request'; issues: { path: string; code: string; message: string }[] } {
  return {
    error: 'invalid_request',
    issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message })),
  };
}
