import type { Knex } from 'knex';

/**
 * `attempted` before a mutation's work starts, `aborted` when its client hung up first, then
 * how it ended; `pii.read` rows record who saw personal data in clear (fields, never values).
 */
export type AuditOutcome = 'attempted' | 'aborted' | 'succeeded' | 'refused' | 'failed';

export interface AuditEntry {
  requestId: string;
  actorSub: string;
  actorRole: string;
  action: string;
  target?: string;
  /** Absent until there is an answer (attempted, aborted). */
  statusCode: number | null;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
}

/** Who did what, when, and how it ended. The table refuses updates and deletes. */
export function createAuditLog(db: Knex) {
  return {
    async record(entry: AuditEntry): Promise<void> {
      await db('audit_log').insert({
        request_id: entry.requestId,
        actor_sub: entry.actorSub,
        actor_role: entry.actorRole,
        action: entry.action,
        target: entry.target ?? null,
        status_code: entry.statusCode,
        outcome: entry.outcome,
        details: JSON.stringify(entry.details ?? {}),
      });
    },

    async forTarget(target: string): Promise<Array<AuditEntry & { at: Date }>> {
      const rows = await db('audit_log').where({ target }).orderBy('id');
      return rows.map((r) => ({
        at: r.at,
        requestId: r.request_id,
        actorSub: r.actor_sub,
        actorRole: r.actor_role,
        action: r.action,
        target: r.target,
        statusCode: r.status_code,
        outcome: r.outcome,
        details: r.details,
      }));
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
