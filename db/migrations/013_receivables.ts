import type { Knex } from 'knex';

/**
 * What a merchant owes beyond its deposits (issue 10).
 *
 * - `ledger_accounts.kind` gains `receivable`: a fine larger than the deposit, or a closure's
 *   debt the deposits could not cover, is owed there (negative while owed) instead of dropped.
 * - `shop_restrictions.source` gains `promotion-closure`: closing third-party promotion
 *   switches the function off on the platform under its own source.
 *
 * Both checks are widened from whatever they are now (other migrations widen them too), and
 * narrowed back by removing only what this one added.
 */
const WIDENED = [
  { table: 'ledger_accounts', name: 'ledger_accounts_kind_check', column: 'kind', value: 'receivable' },
  { table: 'shop_restrictions', name: 'shop_restrictions_source_check', column: 'source', value: 'promotion-closure' },
] as const;

async function definitionOf(db: Knex, name: string): Promise<string> {
  const { rows } = (await db.raw('SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = ?', [name])) as { rows: Array<{ def: string }> };
  if (!rows[0]) throw new Error(`constraint ${name} is missing`);
  // 'CHECK (<expression>)' → '<expression>'
  return rows[0].def.replace(/^CHECK \((.*)\)$/s, '$1');
}

async function replaceCheck(db: Knex, table: string, name: string, expression: string): Promise<void> {
  await db.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`);
  await db.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (${expression})`);
}

export async function up(db: Knex): Promise<void> {
  for (const { table, name, column, value } of WIDENED) {
    await replaceCheck(db, table, name, `(${await definitionOf(db, name)}) OR ${column} = '${value}'`);
  }
}

export async function down(db: Knex): Promise<void> {
  // Nothing may be owed, or the ledger would no longer sum: a down migration never drops money.
  const owed = await db('ledger_entries as e').join('ledger_accounts as a', 'a.id', 'e.account_id').where('a.kind', 'receivable').first('e.id');
  if (owed) throw new Error('013_receivables: receivable ledger lines exist; they cannot be removed');
  await db('ledger_accounts').where({ kind: 'receivable' }).delete();
  await db('shop_restrictions').where({ source: 'promotion-closure' }).delete();
  for (const { table, name, column, value } of WIDENED) {
    // PostgreSQL prints the widened check as '((<before>) OR (<column> = '<value>'::text))'.
    const added = ` OR (${column} = '${value}'::text)`;
    const current = await definitionOf(db, name);
    if (!current.includes(added)) throw new Error(`013_receivables: ${name} was changed since: ${current}`);
    await replaceCheck(db, table, name, current.replace(added, ''));
  }
}
