import type { Knex } from 'knex';

/**
 * The Idempotency-Key of money requests (api/idempotency.ts): one row per caller and key,
 * claimed before the work starts (the primary key lets one of two concurrent requests
 * through), then holding the first final answer for replays.
 */

export interface StoredAnswer {
  statusCode: number;
  body: unknown;
  /** How the first answer was audited (action, target). */
  audit: Record<string, unknown> | null;
}

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'replay'; answer: StoredAnswer }
  /** The key was used for another request (another body or route). */
  | { kind: 'mismatch'; route: string }
  /** The first request under the key has not answered yet. */
  | { kind: 'in_progress' };

interface KeyRow {
  route: string;
  fingerprint: string;
  state: 'in_progress' | 'done';
  status_code: number | null;
  response_body: unknown;
  audit: Record<string, unknown> | null;
  abandoned: boolean;
}

export interface KeyRef {
  callerSub: string;
  key: string;
}

export function createIdempotencyKeyRepository(db: Knex) {
  return {
    /**
     * Claims the key for this request, or says what the first request under it came to. A
     * claim still in progress after `abandonedAfterMs` belonged to a process that died before
     * answering: the same request may take it over (the money routes are safe to repeat).
     */
    async claim(ref: KeyRef, request: { route: string; fingerprint: string }, abandonedAfterMs: number, retries = 2): Promise<Claim> {
      const row = { caller_sub: ref.callerSub, key: ref.key, route: request.route, fingerprint: request.fingerprint, state: 'in_progress' };
      const inserted = await db('idempotency_keys').insert(row).onConflict(['caller_sub', 'key']).ignore().returning('key');
      if (inserted.length > 0) return { kind: 'claimed' };
      const found = await db('idempotency_keys')
        .where({ caller_sub: ref.callerSub, key: ref.key })
        .first<KeyRow | undefined>('route', 'fingerprint', 'state', 'status_code', 'response_body', 'audit', db.raw(`created_at < now() - make_interval(secs => ?) AS abandoned`, [abandonedAfterMs / 1000]));
      // Released between the insert and the read (the first attempt failed): try once more.
      if (!found) return retries > 0 ? this.claim(ref, request, abandonedAfterMs, retries - 1) : { kind: 'in_progress' };
      if (found.fingerprint !== request.fingerprint) return { kind: 'mismatch', route: found.route };
      if (found.state === 'done') return { kind: 'replay', answer: { statusCode: found.status_code!, body: found.response_body, audit: found.audit } };
      if (found.abandoned) {
        const taken = await db('idempotency_keys')
          .where({ caller_sub: ref.callerSub, key: ref.key, state: 'in_progress' })
          .whereRaw(`created_at < now() - make_interval(secs => ?)`, [abandonedAfterMs / 1000])
          .update({ created_at: db.fn.now() });
        if (taken === 1) return { kind: 'claimed' };
      }
      return { kind: 'in_progress' };
    },

    /** Keeps the first final answer; replays return it from now on. */
    async complete(ref: KeyRef, answer: StoredAnswer): Promise<void> {
      await db('idempotency_keys')
        .where({ caller_sub: ref.callerSub, key: ref.key, state: 'in_progress' })
        .update({
          state: 'done',
          status_code: answer.statusCode,
          response_body: JSON.stringify(answer.body ?? null),
          audit: answer.audit === null ? null : JSON.stringify(answer.audit),
          completed_at: db.fn.now(),
        });
    },

    /** Frees a key whose request ended without a final answer, so a retry runs afresh. */
    async release(ref: KeyRef): Promise<void> {
      await db('idempotency_keys').where({ caller_sub: ref.callerSub, key: ref.key, state: 'in_progress' }).delete();
    },
  };
}

export type IdempotencyKeyRepository = ReturnType<typeof createIdempotencyKeyRepository>;
