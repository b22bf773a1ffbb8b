import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { AuditLog, AuditOutcome } from '../db/repositories/audit-log';
import { unavailable } from './errors';
import { unreachableDependency } from './outages';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What an answer's status means for its audit row (one rule for the middleware and the routes that audit themselves). */
export const outcomeOf = (status: number): AuditOutcome => (status < 400 ? 'succeeded' : status < 500 ? 'refused' : 'failed');

/**
 * Every authenticated mutating request leaves rows whatever happens to its connection:
 * - `attempted`, written (awaited) before its body is read or any work starts, so a request
 *   that hangs or a process that dies mid-way still leaves its attempt;
 * - `aborted`, when the connection closes before any answer (the client hung up);
 * - the outcome with its status, when the answer is ready, even if no client is left to
 *   receive it (the work completed after the hang-up).
 * Handlers name the action and target in `res.locals.audit` (and may add details, such as an
 * Idempotency-Key replay); no request body is copied (it
 * may hold personal data). Mounted after authentication: anonymous refusals are security
 * events (api/security.ts), so a flood cannot grow this append-only table.
 */
export function auditMutations(audit: AuditLog, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    if (!MUTATING.has(req.method)) return next();
    // Taken now: later the routers may have rewritten baseUrl and url.
    const path = `${req.baseUrl}${req.path}`;
    const row = (statusCode: number | null, outcome: AuditOutcome, extra: Record<string, unknown> = {}) => {
      const named = res.locals.audit as { action?: string; target?: string; details?: Record<string, unknown> } | undefined;
      const actor = res.locals.auditActor as { sub: string; role: string } | undefined;
      return {
        requestId: String(req.id),
        // A caller proven otherwise than by token (the platform's signed callback) names itself.
        actorSub: req.principal?.sub ?? actor?.sub ?? 'anonymous',
        actorRole: req.principal?.role ?? actor?.role ?? 'none',
        action: named?.action ?? `${req.method} ${path}`,
        target: named?.target,
        statusCode,
        outcome,
        details: { method: req.method, path, ...named?.details, ...extra },
      };
    };
    const write = (entry: ReturnType<typeof row>) =>
      audit.record(entry).catch((err: unknown) => logger.error({ err, requestId: req.id, outcome: entry.outcome }, 'audit log write failed'));

    try {
      await audit.record(row(null, 'attempted'));
    } catch (err) {
      // No trail, no change: refuse before anything is done.
      logger.error({ err, requestId: req.id }, 'audit log write failed; request refused');
      return next(unavailable('the audit log cannot be written; nothing was done, retry shortly', { dependency: unreachableDependency(err) ?? 'audit_log' }));
    }

    let answered = false;
    let hungUp = false;
    const end = res.end;
    // The status is final when the answer is ended, delivered or not ('finish' never comes
    // once the client has gone), so the outcome is taken here.
    res.end = function (this: Response, ...args: unknown[]) {
      if (!answered) {
        answered = true;
        void write(row(res.statusCode, outcomeOf(res.statusCode), hungUp ? { afterHangUp: true } : {}));
      }
      return (end as (...a: unknown[]) => Response).apply(this, args);
    } as Response['end'];
    res.once('close', () => {
      if (answered) return;
      hungUp = true;
      void write(row(null, 'aborted'));
    });
    next();
  };
}
