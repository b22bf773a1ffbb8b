import type { Knex } from 'knex';

/**
 * Keyset pagination: a page starts strictly after the last row of the page before, found by
 * its sort key, never by counting rows (OFFSET reads and throws away every row before the
 * page, and skips or repeats rows when the list changes between two pages).
 *
 * A sort key is a non-null SQL expression: a nullable column is sorted through COALESCE
 * (`COALESCE(deadline, 'infinity')`), and an index on the same expression serves it. The
 * last key must tell every row apart (the table's id), so ties in the first keys never
 * split or repeat.
 */
export interface SortKey {
  /** A SQL expression of the query's own columns; code constants only, never input. */
  sql: string;
  type: 'timestamptz' | 'text';
  direction: 'asc' | 'desc';
}

/**
 * Where a page ends: each key's value as text, exactly as the database printed it (a
 * timestamp to the microsecond in UTC, or 'infinity'), so the next page compares against
 * the stored value itself and not a rounded copy of it.
 */
export type Position = string[];

export interface KeysetPage<R> {
  rows: R[];
  /** Where the next page starts; null when this page is the last. */
  next: Position | null;
}

/** A timestamp as a position holds it; `to_char` never loses the microseconds a Date would. */
export const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z|infinity)$/;

function asText(key: SortKey): string {
  if (key.type === 'text') return `(${key.sql})::text`;
  return `CASE WHEN isfinite(${key.sql}) THEN to_char((${key.sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ELSE (${key.sql})::text END`;
}

const placeholder = (key: SortKey) => `?::${key.type}`;
const KEY_COLUMN = (i: number) => `keyset_${i}`;

/**
 * Rows strictly after `after` in the keys' order. Keys of one direction compare as one row
 * value, which an index on the same expressions answers as a range; mixed directions spell
 * the comparison out, with the first key's bound in front so the index still narrows it.
 */
function afterCondition(keys: readonly SortKey[], after: Position): { sql: string; bindings: string[] } {
  const sameDirection = keys.every((k) => k.direction === keys[0]!.direction);
  const cmp = (k: SortKey) => (k.direction === 'asc' ? '>' : '<');
  if (sameDirection) {
    return {
      sql: `(${keys.map((k) => k.sql).join(', ')}) ${cmp(keys[0]!)} (${keys.map(placeholder).join(', ')})`,
      bindings: [...after],
    };
  }
  const bindings: string[] = [];
  const from = (i: number): string => {
    const k = keys[i]!;
    bindings.push(after[i]!);
    if (i === keys.length - 1) return `${k.sql} ${cmp(k)} ${placeholder(k)}`;
    bindings.push(after[i]!);
    return `(${k.sql} ${cmp(k)} ${placeholder(k)} OR (${k.sql} = ${placeholder(k)} AND ${from(i + 1)}))`;
  };
  const first = keys[0]!;
  const spelled = from(0);
  return { sql: `${first.sql} ${cmp(first)}= ${placeholder(first)} AND ${spelled}`, bindings: [after[0]!, ...bindings] };
}

/**
 * `query` narrowed to one page in the keys' order: the rows after `after`, one more than
 * `limit` (to know whether a next page exists without counting), each with its keys as text.
 */
export function keysetQuery(db: Knex, query: Knex.QueryBuilder, keys: readonly SortKey[], after: Position | undefined, limit: number): Knex.QueryBuilder {
  if (keys.length === 0) throw new Error('a keyset needs at least one sort key');
  if (after && after.length !== keys.length) throw new Error(`a position has ${keys.length} values, got ${after.length}`);
  keys.forEach((k, i) => void query.select(db.raw(`${asText(k)} AS ??`, [KEY_COLUMN(i)])));
  if (after) {
    const condition = afterCondition(keys, after);
    void query.whereRaw(condition.sql, condition.bindings);
  }
  for (const k of keys) void query.orderByRaw(`${k.sql} ${k.direction}`);
  return query.limit(limit + 1);
}

/** One page of `query` in the keys' order: at most `limit` rows after `after`, and where the next page starts. */
export async function keysetPage<R extends object>(
  db: Knex,
  query: Knex.QueryBuilder,
  keys: readonly SortKey[],
  after: Position | undefined,
  limit: number,
): Promise<KeysetPage<R>> {
  const rows = (await keysetQuery(db, query, keys, after, limit)) as Array<R & Record<string, string>>;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next = rows.length > limit && last ? keys.map((_, i) => last[KEY_COLUMN(i)]!) : null;
  return {
    rows: page.map((row) => {
      const copy: Record<string, unknown> = { ...row };
      keys.forEach((_, i) => delete copy[KEY_COLUMN(i)]);
      return copy as R;
    }),
    next,
  };
}
