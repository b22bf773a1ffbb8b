import type { Knex } from 'knex';

/**
 * Runs inserts as one statement: all but the last as data-modifying WITH clauses, the last as
 * the statement itself. One statement is atomic on its own (all its rows or none), and it is
 * one round trip to the server instead of one per insert plus BEGIN and COMMIT. Foreign keys
 * hold between them: PostgreSQL checks them at the end of the statement, when every row is in,
 * so a row may reference one inserted by an earlier clause. Each insert must stand alone (no
 * RETURNING read by another): the clauses run against one snapshot and see none of each other's rows.
 */
export async function insertsAsOneStatement(db: Knex, inserts: readonly Knex.QueryBuilder[]): Promise<void> {
  if (inserts.length === 0) return;
  const parts = inserts.map((q) => q.toSQL());
  const last = parts[parts.length - 1]!;
  const clauses = parts.slice(0, -1).map((p, i) => `w${i} AS (${p.sql})`);
  // The bindings stay bindings ('?' placeholders, in order): no value is ever spliced into the text.
  const sql = clauses.length > 0 ? `WITH ${clauses.join(', ')} ${last.sql}` : last.sql;
  await db.raw(sql, parts.flatMap((p) => p.bindings as Knex.RawBinding[]));
}
