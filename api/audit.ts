import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../db/repositories/audit-log';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every mutating request leaves a row: who, what, when, and how it ended, refusals
 * included. Handlers name the action and target in `res.locals.audit`; no request
 * body is copied (it may hold personal data).
 */
export function auditMutations(audit: AuditLog, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!MUTATING.has(req.method)) return next();
    // Taken now: by 'finish' the routers may have rewritten baseUrl and url.
    const path = `${req.baseUrl}${req.path}`;
    res.on('finish', () => {
      const named = res.locals.audit as { action?: string; target?: string } | undefined;
      const status = res.statusCode;
      audit
        .record({
          requestId: String(req.id),
          actorSub: req.principal?.sub ?? 'anonymous',
          actorRole: req.principal?.role ?? 'none',
          action: named?.action ?? `${req.method} ${path}`,
          target: named?.target,
          statusCode: status,
          outcome: status < 400 ? 'succeeded' : status < 500 ? 'refused' : 'failed',
          details: { method: req.method, path },
        })
        .catch((err: unknown) => logger.error({ err, requestId: req.id }, 'audit log write failed'));
    });
    next();
  };
}
