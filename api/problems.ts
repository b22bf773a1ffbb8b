import { STATUS_CODES } from 'node:http';
import { Router } from 'express';
import { z } from 'zod';

/*
 * Every error the API answers is an RFC 9457 problem document (application/problem+json).
 * `type` is a relative URI, /problems/<code>, resolved against the API's own address and
 * served there (api/app.ts) with the description below, so a client or a person can look a
 * code up. `code` repeats the last segment for clients that switch on a short name.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_PATH = '/problems';

export interface ProblemType {
  status: number;
  title: string;
  /** What it means and what the caller can do: served at the type's URI. */
  description: string;
}

/** The codes the API answers with, one title each (the title never changes with the occurrence). */
export const PROBLEM_TYPES = {
  invalid_request: { status: 400, title: 'The request is invalid', description: 'A field, query or path parameter is refused; `issues` names each one and why. Fix the request; sending it again unchanged fails again.' },
  invalid_json: { status: 400, title: 'The body is not JSON', description: 'The request body could not be parsed as JSON.' },
  bad_request: { status: 400, title: 'The request cannot be read', description: 'The request cannot be read as sent (an undecodable path, a malformed header).' },
  unauthorized: { status: 401, title: 'Not authenticated', description: 'The bearer token is missing, invalid, expired or outlives its role\'s cap. Get a new token.' },
  invalid_signature: { status: 401, title: 'The signature does not hold', description: 'A platform callback whose signature is missing, stale or wrong.' },
  forbidden: { status: 403, title: 'Not allowed', description: 'The role may not do this, or a merchant would act for another merchant, or a rule needs a second person.' },
  not_found: { status: 404, title: 'Not found', description: 'No such route or record (for a merchant, also another merchant\'s record).' },
  payment_not_found: { status: 404, title: 'Payment not found', description: 'The payment platform does not know the payment named.' },
  conflict: { status: 409, title: 'Conflicts with the process state', description: 'The process is not in a state that allows this (already running, already decided, ended). The detail says why; extension members name the open case or closure.' },
  period_not_ended: { status: 409, title: 'The period has not ended', description: 'A settlement period can be run only once the month has ended (Asia/Shanghai).' },
  payment_pending: { status: 409, title: 'Payment not confirmed yet', description: 'Nothing was credited; the same request may succeed once the platform confirms the payment (`retryable: true`).' },
  payment_failed: { status: 409, title: 'Payment failed', description: 'The payment failed: nothing was paid or credited (`retryable: false`).' },
  payment_mismatch: { status: 409, title: 'Payment does not match', description: 'The payment is for another shop, account or amount (`retryable: false`).' },
  fee_rate_exists: { status: 409, title: 'A rate already starts that day', description: 'The category already has a fee rate from that Shanghai day; rates are never edited: add one from another day.' },
  fee_rate_used: { status: 409, title: 'The rate was used by a statement', description: 'A statement priced a line with the rate this one would replace on those days (`lastPricedDate`); a new rate may take effect from the day after.' },
  link_window_closed: { status: 409, title: 'No link window is open', description: 'Outside links of this partner and kind may be listed only inside an open link window (docs/rules.md §5.2). `allowingWindow` names the window that would allow it (its opensOn), or is null when none does.' },
  link_window_refused: { status: 422, title: 'The window\'s dates are refused', description: 'closesOn before opensOn, a phase outside the window, an overlap with another window of the partner and kind (`windowId`), or a change to days already lived (`reason` names the rule).' },
  not_current_month: { status: 409, title: 'Not the current month', description: 'The qualification check judges by today, so only the current Shanghai month (`currentMonth`) can be run now.' },
  qualification_not_pending: { status: 409, title: 'Qualification already decided', description: 'Only a pending qualification (a merchant\'s record) can be verified or rejected; `verification` says what it is now.' },
  idempotency_key_reused: { status: 409, title: 'Idempotency-Key used for another request', description: 'The key was first sent with another method, path or body; use a new key for a new request.' },
  idempotency_key_in_progress: { status: 409, title: 'The first request with this key is still running', description: 'Retry after Retry-After seconds to get its answer (`retryable: true`).' },
  payload_too_large: { status: 413, title: 'Body too large', description: 'The request body is larger than API_BODY_LIMIT.' },
  unsupported_media_type: { status: 415, title: 'Unsupported body encoding', description: 'The body is in a charset or content encoding the API does not read; send UTF-8 JSON.' },
  unprocessable: { status: 422, title: 'Data refused by the database', description: 'A step\'s data the database refuses for good; the process waits in needs_attention and the detail names the step.' },
  binding_refused: { status: 422, title: 'The store cannot be bound as it stands', description: 'A binding precondition or partner check failed: `refusal` names it (entity_mismatch with the differing `fields`, pid_malformed, sub_account_authorisation, taobaoke_not_open, …) and the detail says what to fix. Nothing was saved by a refused start.' },
  banned_word_list_full: { status: 422, title: 'The banned-word list is full', description: 'The list would hold more than `limit` words (folded, deduplicated) with the addition; nothing was added. `size` is the list\'s size now.' },
  invalid_oauth_state: { status: 400, title: 'Unknown, used or expired authorisation state', description: 'The OAuth callback carries a state this API did not issue, or one already used or expired. Start the authorisation again for a new link.' },
  rate_limited: { status: 429, title: 'Too many requests', description: 'Slow down; Retry-After and the RateLimit headers say when to send again.' },
  internal: { status: 500, title: 'Internal error', description: 'Something went wrong on our side; quote `instance` (the request id) to find it in the log.' },
  unavailable: { status: 503, title: 'Temporarily unavailable', description: 'The database or the workflow service (`dependency`) cannot be reached, or the request cannot be audited. Nothing was done: retry after Retry-After seconds.' },
} as const satisfies Record<string, ProblemType>;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

export const isProblemCode = (code: string): code is ProblemCode => Object.hasOwn(PROBLEM_TYPES, code);

/** The type URI of a code; a code outside the catalogue is `about:blank` (the status says it all, RFC 9457 §4.2.1). */
export const problemTypeUri = (code: string) => (isProblemCode(code) ? `${PROBLEM_PATH}/${code}` : 'about:blank');

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request id (X-Request-Id): where to find the occurrence in the log. */
  instance: string;
  code: string;
  [extension: string]: unknown;
}

/** A problem document; `extra` (issues, caseId, retryable, …) joins as extension members and never overrides the standard ones. */
export function problem(status: number, code: string, detail: string, instance: string, extra: Record<string, unknown> = {}): Problem {
  const title = isProblemCode(code) && PROBLEM_TYPES[code].status === status ? PROBLEM_TYPES[code].title : (STATUS_CODES[status] ?? 'Error');
  return { ...extra, type: problemTypeUri(code), title, status, detail, instance, code };
}

/** The problem document as the OpenAPI document shows it (a shared component, `Problem`). */
export const problemSchema = z
  .looseObject({
    type: z.string().describe(`a URI reference naming the kind of problem: ${PROBLEM_PATH}/<code> (served there), or about:blank`),
    title: z.string().describe('short summary of the type; the same for every occurrence'),
    status: z.int().describe('the HTTP status, repeated'),
    detail: z.string().describe('what went wrong this time, in words for a person'),
    instance: z.string().describe('the request id (X-Request-Id header): quote it to find the request in the log'),
    code: z.string().describe(`the last segment of type, for clients that switch on a short name: ${Object.keys(PROBLEM_TYPES).join(', ')}`),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('400 invalid_request: each refused field'),
    retryable: z.boolean().optional().describe('409 payment_*: whether the same request may succeed later'),
    dependency: z.enum(['database', 'temporal', 'audit_log']).optional().describe('503: what could not be reached'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; extension members (caseId, closureId, workflowId, state, …) may follow.' });

/** An example problem of a status, for the OpenAPI document. */
export function exampleProblem(code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  return problem(PROBLEM_TYPES[code].status, code, detail, '8f14e45f-ceea-4f6e-9b3a-1c0a5d2b7e01', extra);
}

/** Serves each type's description at its URI, and the list at /problems, so a `type` can be looked up. */
export function problemTypesRouter(): Router {
  const router = Router();
  const describe = (code: ProblemCode) => ({ type: problemTypeUri(code), code, ...PROBLEM_TYPES[code] });
  router.get(PROBLEM_PATH, (_req, res) => {
    res.json((Object.keys(PROBLEM_TYPES) as ProblemCode[]).map(describe));
  });
  router.get(`${PROBLEM_PATH}/:code`, (req, res, next) => {
    const { code } = req.params;
    if (!isProblemCode(code)) return next();
    res.json(describe(code));
  });
  return router;
}
