import type { Knex } from 'knex';

export type SecurityEventKind = 'unauthenticated' | 'forbidden' | 'rate_limited';

export interface SecurityEventSettings {
  /** How often pending counts are written; a crash loses at most this much of them. */
  flushMs: number;
  /** Distinct counters held between flushes; further addresses are counted as 'other'. */
  maxPending: number;
  onError(err: unknown): void;
}

interface Pending {
  minute: Date;
  clientAddress: string;
  kind: SecurityEventKind;
  count: number;
  lastAt: Date;
}

const OVERFLOW_ADDRESS = 'other';

const minuteOf = (at: Date) => new Date(Math.floor(at.getTime() / 60_000) * 60_000);

/**
 * Refused requests, counted per client address, kind and minute. Counting is in memory
 * (a flood costs a map update per request, no query); the counts are added to
 * `security_events` at most every `flushMs`, one upsert per counter, so the table grows by
 * at most one row per address, kind and minute whatever the flood.
 */
export function createSecurityEvents(db: Knex, settings: SecurityEventSettings) {
  let pending = new Map<string, Pending>();
  let timer: NodeJS.Timeout | undefined;

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    try {
      await db('security_events')
        .insert(batch.map((p) => ({ minute: p.minute, client_address: p.clientAddress, kind: p.kind, count: p.count, last_at: p.lastAt })))
        .onConflict(['minute', 'client_address', 'kind'])
        .merge({
          count: db.raw('security_events.count + excluded.count'),
          last_at: db.raw('GREATEST(security_events.last_at, excluded.last_at)'),
        });
    } catch (err) {
      settings.onError(err);
    }
  }

  return {
    count(clientAddress: string, kind: SecurityEventKind, at = new Date()): void {
      const minute = minuteOf(at);
      let key = `${minute.getTime()}|${kind}|${clientAddress}`;
      let address = clientAddress;
      if (!pending.has(key) && pending.size >= settings.maxPending) {
        address = OVERFLOW_ADDRESS;
        key = `${minute.getTime()}|${kind}|${address}`;
      }
      const entry = pending.get(key);
      if (entry) {
        entry.count += 1;
        entry.lastAt = at;
      } else {
        pending.set(key, { minute, clientAddress: address, kind, count: 1, lastAt: at });
      }
      // A timer only while something waits, so an idle app holds none; unref'd, so it never
      // keeps a stopping process alive (stop() flushes what is left).
      if (!timer) {
        timer = setTimeout(() => void flush(), settings.flushMs);
        timer.unref();
      }
    },
    flush,
    /** Writes what is pending; call on shutdown, before the database closes. */
    stop: flush,
  };
}

export type SecurityEvents = ReturnType<typeof createSecurityEvents>;
