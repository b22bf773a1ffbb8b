import type { Knex } from 'knex';
import { ACCOUNT_KINDS_AT_002, TRANSACTION_KINDS_AT_002 } from '../migrations/002_deposits';

/**
 * The shop's double-entry ledger. Every movement is one transaction whose entries sum
 * to zero, so a fen is never lost or invented; the database checks that again at
 * commit and refuses to edit or delete a posted line (see migration 002_deposits).
 *
 * Signs: a held account (deposit, promotion_deposit) is positive while the platform
 * holds the merchant's money. The other four are the counterparties money comes from
 * or goes to: merchant_payments (the merchant paying in), sales_proceeds (the shop's
 * proceeds taken to top up), payouts (refunds paid out), platform_income (deductions).
 * `receivable` is what the merchant owes the platform beyond its deposits (a fine larger
 * than the deposit, a closure's debt): on the held side, so it is negative while owed
 * (never above zero), and deposit + receivable is what the merchant really has there.
 *
 * The kinds are the ones the database's checks allow: those 002_deposits created (kept there,
 * frozen) and `receivable` (013_receivables). A new kind needs a migration and a line here.
 */
export const ACCOUNT_KINDS = [...ACCOUNT_KINDS_AT_002, 'receivable'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Accounts holding the merchant's money; only these are kept from going below zero. */
export type HeldAccount = 'deposit' | 'promotion_deposit';
const HELD_ACCOUNTS: readonly AccountKind[] = ['deposit', 'promotion_deposit'];

export const TRANSACTION_KINDS = TRANSACTION_KINDS_AT_002;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export interface Entry {
  account: AccountKind;
  amountFen: number;
}

export interface PostInput {
  /** Derived from the business request (`deduct:<case>`), so a retried activity posts once. */
  idempotencyKey: string;
  shopId: string;
  kind: TransactionKind;
  reason: string;
  actor: string;
  details?: Record<string, unknown>;
  entries: Entry[];
  /** Let a held account go below zero (default false: refuse with InsufficientBalanceError). */
  allowNegative?: boolean;
}

export interface PostResult {
  transactionId: number;
  replayed: boolean;
  entries: Entry[];
}

export interface LedgerLine {
  transactionId: number;
  idempotencyKey: string;
  shopId: string;
  kind: TransactionKind;
  reason: string;
  actor: string;
  createdAt: Date;
  details: Record<string, unknown>;
  entries: Entry[];
}

export type InvariantProblem = 'unbalanced' | 'too_few_entries' | 'foreign_account';

export interface InvariantViolation {
  transactionId: number;
  idempotencyKey: string;
  sumFen: number;
  entryCount: number;
  problems: InvariantProblem[];
}

export class LedgerValidationError extends Error {
  constructor(message: string) {
    super(`ledger: ${message}`);
    this.name = 'LedgerValidationError';
  }
}

/** The key was already used for a different movement: never answer with the other one. */
export class LedgerKeyConflictError extends Error {
  constructor(
    readonly idempotencyKey: string,
    readonly existingTransactionId: number,
  ) {
    super(`ledger: idempotency key ${idempotencyKey} already posted transaction ${existingTransactionId} with different entries`);
    this.name = 'LedgerKeyConflictError';
  }
}

export class InsufficientBalanceError extends Error {
  constructor(
    readonly shopId: string,
    readonly account: AccountKind,
    readonly balanceFen: number,
    readonly debitFen: number,
  ) {
    super(`ledger: ${shopId} ${account} holds ${balanceFen} fen, cannot take ${debitFen} fen`);
    this.name = 'InsufficientBalanceError';
  }
}

export const accountId = (shopId: string, account: AccountKind): string => `${shopId}:${account}`;

function positiveFen(fen: number): number {
  if (!Number.isSafeInteger(fen) || fen <= 0) throw new LedgerValidationError(`amount must be a positive whole number of fen, got ${fen}`);
  return fen;
}

/** The merchant pays into a deposit. */
export function topUp(account: HeldAccount, fen: number): Entry[] {
  return [
    { account, amountFen: positiveFen(fen) },
    { account: 'merchant_payments', amountFen: -fen },
  ];
}

/** A penalty taken from a deposit becomes platform income. */
export function deduction(account: HeldAccount, fen: number): Entry[] {
  return [
    { account, amountFen: -positiveFen(fen) },
    { account: 'platform_income', amountFen: fen },
  ];
}

/**
 * A deduction of `fen` of which the account pays what it holds (`heldFen`) and the rest is
 * owed: the platform earns the whole amount at once, the unpaid part stays receivable.
 */
export function deductionOwing(account: HeldAccount, fen: number, heldFen: number): Entry[] {
  const paid = Math.min(positiveFen(fen), Math.max(0, heldFen));
  return nonZero([
    { account, amountFen: -paid },
    { account: 'receivable', amountFen: -(fen - paid) },
    { account: 'platform_income', amountFen: fen },
  ]);
}

/**
 * Money coming into the deposit (a top-up, proceeds moved in) pays what is owed first
 * (docs/rules.md §2): the deposit counts as whole only once nothing is owed.
 */
export function settlingOwed(entries: Entry[], owedFen: number): Entry[] {
  const owed = Math.max(0, owedFen);
  if (owed === 0) return entries;
  const credit = entries.find((e) => e.account === 'deposit' && e.amountFen > 0);
  if (!credit) return entries;
  const settled = Math.min(owed, credit.amountFen);
  return nonZero([...entries.filter((e) => e !== credit), { account: 'deposit', amountFen: credit.amountFen - settled }, { account: 'receivable', amountFen: settled }]);
}

/** The database refuses zero entries; a part that comes to nothing is left out. */
function nonZero(entries: Entry[]): Entry[] {
  return entries.filter((e) => e.amountFen !== 0);
}

/** Sales proceeds moved into the deposit to top it up (ladder step 6). */
export function proceedsTransfer(fen: number): Entry[] {
  return [
    { account: 'deposit', amountFen: positiveFen(fen) },
    { account: 'sales_proceeds', amountFen: -fen },
  ];
}

/** What is left of a deposit paid back to the merchant. */
export function refund(account: HeldAccount, fen: number): Entry[] {
  return [
    { account, amountFen: -positiveFen(fen) },
    { account: 'payouts', amountFen: fen },
  ];
}

/** Same movement as a deduction; a separate kind so statements can tell them apart. */
export function forfeiture(account: HeldAccount, fen: number): Entry[] {
  return deduction(account, fen);
}

/** Undoes a movement: history is never edited, a wrong line is cancelled by its mirror. */
export function reversal(entries: Entry[]): Entry[] {
  return entries.map((e) => ({ account: e.account, amountFen: -e.amountFen }));
}

/** Throws LedgerValidationError unless the entries form a balanced movement. */
export function validateEntries(entries: readonly Entry[]): void {
  if (entries.length < 2) throw new LedgerValidationError(`a movement needs at least two entries, got ${entries.length}`);
  let sum = 0n;
  for (const e of entries) {
    if (!ACCOUNT_KINDS.includes(e.account)) throw new LedgerValidationError(`unknown account ${String(e.account)}`);
    if (!Number.isSafeInteger(e.amountFen) || e.amountFen === 0) {
      throw new LedgerValidationError(`entry amounts must be non-zero whole fen, got ${e.amountFen} on ${e.account}`);
    }
    sum += BigInt(e.amountFen);
  }
  if (sum !== 0n) throw new LedgerValidationError(`entries must sum to zero, they sum to ${sum} fen`);
}

function validatePost(input: PostInput): void {
  for (const field of ['idempotencyKey', 'shopId', 'reason', 'actor'] as const) {
    if (typeof input[field] !== 'string' || input[field].trim() === '') throw new LedgerValidationError(`${field} is required`);
  }
  if (!TRANSACTION_KINDS.includes(input.kind)) throw new LedgerValidationError(`unknown transaction kind ${String(input.kind)}`);
  validateEntries(input.entries);
}

const entryKey = (e: Entry) => `${e.account}\u0000${e.amountFen}`;
const sameEntries = (a: readonly Entry[], b: readonly Entry[]) =>
  a.length === b.length && a.map(entryKey).sort().join('\n') === b.map(entryKey).sort().join('\n');

/** Net change per account of one movement (an account may appear more than once). */
function netByAccount(entries: readonly Entry[]): Map<AccountKind, number> {
  const net = new Map<AccountKind, number>();
  for (const e of entries) net.set(e.account, (net.get(e.account) ?? 0) + e.amountFen);
  return net;
}

interface TransactionRow {
  id: number;
  idempotency_key: string;
  shop_id: string;
  kind: TransactionKind;
  reason: string;
  actor: string;
  created_at: Date;
  details: Record<string, unknown>;
}

async function linesOf(q: Knex, rows: TransactionRow[]): Promise<LedgerLine[]> {
  if (rows.length === 0) return [];
  const entries = await q('ledger_entries as e')
    .join('ledger_accounts as a', 'a.id', 'e.account_id')
    .whereIn(
      'e.transaction_id',
      rows.map((r) => r.id),
    )
    .orderBy('e.id')
    .select<Array<{ transaction_id: number; kind: AccountKind; amount_fen: number }>>('e.transaction_id', 'a.kind', 'e.amount_fen');
  return rows.map((r) => ({
    transactionId: r.id,
    idempotencyKey: r.idempotency_key,
    shopId: r.shop_id,
    kind: r.kind,
    reason: r.reason,
    actor: r.actor,
    createdAt: r.created_at,
    details: r.details,
    entries: entries.filter((e) => e.transaction_id === r.id).map((e) => ({ account: e.kind, amountFen: e.amount_fen })),
  }));
}

async function findByKeyIn(q: Knex, key: string): Promise<LedgerLine | undefined> {
  const row = await q<TransactionRow>('ledger_transactions').where({ idempotency_key: key }).first();
  return row ? (await linesOf(q, [row]))[0] : undefined;
}

export function createLedger(db: Knex) {
  async function ensureAccounts(shopId: string, trx: Knex = db): Promise<void> {
    const existing = await trx('ledger_accounts').where({ shop_id: shopId }).count<Array<{ count: number | string }>>('* as count');
    if (Number(existing[0]?.count ?? 0) === ACCOUNT_KINDS.length) return;
    await trx('ledger_accounts')
      .insert(ACCOUNT_KINDS.map((kind) => ({ id: accountId(shopId, kind), shop_id: shopId, kind })))
      .onConflict('id')
      .ignore();
  }

  async function balanceIn(q: Knex, shopId: string, account: AccountKind): Promise<number> {
    const row = await q('ledger_entries')
      .where({ account_id: accountId(shopId, account) })
      .first<{ balance: number }>(q.raw('COALESCE(SUM(amount_fen), 0)::bigint AS balance'));
    return row?.balance ?? 0;
  }

  return {
    /** Creates the shop's six accounts; safe to run again. */
    ensureAccounts,

    /**
     * Posts one movement exactly once per idempotency key, in one database transaction.
     * A repeated key with the same shop, kind and entries answers `replayed: true`
     * without posting; with anything else it throws LedgerKeyConflictError.
     */
    async post(input: PostInput, trx: Knex = db): Promise<PostResult> {
      validatePost(input);
      return trx.transaction(async (tx) => {
        await ensureAccounts(input.shopId, tx);
        // ON CONFLICT DO NOTHING waits for a concurrent post of the same key to finish,
        // so two racing retries end with one transaction and one replay.
        const inserted = await tx('ledger_transactions')
          .insert({
            idempotency_key: input.idempotencyKey,
            shop_id: input.shopId,
            kind: input.kind,
            reason: input.reason,
            actor: input.actor,
            details: JSON.stringify(input.details ?? {}),
          })
          .onConflict('idempotency_key')
          .ignore()
          .returning<Array<{ id: number }>>('id');
        if (inserted.length === 0) {
          const existing = await findByKeyIn(tx, input.idempotencyKey);
          if (!existing) throw new Error(`ledger: idempotency key ${input.idempotencyKey} conflicted but no transaction holds it`);
          if (existing.shopId !== input.shopId || existing.kind !== input.kind || !sameEntries(existing.entries, input.entries)) {
            throw new LedgerKeyConflictError(input.idempotencyKey, existing.transactionId);
          }
          return { transactionId: existing.transactionId, replayed: true, entries: existing.entries };
        }
        const transactionId = inserted[0].id;

        // Row locks on the touched accounts, in a fixed order so two movements never
        // deadlock, serialize concurrent movements between the balance check and the insert.
        const net = netByAccount(input.entries);
        const ids = [...net.keys()].map((k) => accountId(input.shopId, k)).sort();
        await tx('ledger_accounts').whereIn('id', ids).orderBy('id').forUpdate().select('id');
        // Owed money is settled, never overpaid: a credit beyond what is owed belongs in a deposit.
        const owedDelta = net.get('receivable') ?? 0;
        if (owedDelta > 0 && (await balanceIn(tx, input.shopId, 'receivable')) + owedDelta > 0) {
          throw new LedgerValidationError(`${input.shopId} owes less than the ${owedDelta} fen this movement settles`);
        }
        if (!input.allowNegative) {
          for (const [account, delta] of net) {
            if (delta >= 0 || !HELD_ACCOUNTS.includes(account)) continue;
            const balance = await balanceIn(tx, input.shopId, account);
            if (balance + delta < 0) throw new InsufficientBalanceError(input.shopId, account, balance, -delta);
          }
        }

        await tx('ledger_entries').insert(
          input.entries.map((e) => ({ transaction_id: transactionId, account_id: accountId(input.shopId, e.account), amount_fen: e.amountFen })),
        );
        return { transactionId, replayed: false, entries: input.entries.map((e) => ({ ...e })) };
      });
    },

    async balance(shopId: string, account: AccountKind, trx: Knex = db): Promise<number> {
      return balanceIn(trx, shopId, account);
    },

    /**
     * The balance under the account's row lock, inside the caller's transaction: every
     * posting to the account takes the same lock, so none lands until that transaction ends.
     */
    async lockedBalance(shopId: string, account: AccountKind, tx: Knex): Promise<number> {
      await tx('ledger_accounts').where({ id: accountId(shopId, account) }).forUpdate().select('id');
      return balanceIn(tx, shopId, account);
    },

    /** Every account of the shop, 0 where nothing was ever posted. */
    async balances(shopId: string, trx: Knex = db): Promise<Record<AccountKind, number>> {
      const rows = await trx('ledger_accounts as a')
        .leftJoin('ledger_entries as e', 'e.account_id', 'a.id')
        .where('a.shop_id', shopId)
        .groupBy('a.kind')
        .select<Array<{ kind: AccountKind; balance: number }>>('a.kind', trx.raw('COALESCE(SUM(e.amount_fen), 0)::bigint AS balance'));
      const result = Object.fromEntries(ACCOUNT_KINDS.map((k) => [k, 0])) as Record<AccountKind, number>;
      for (const r of rows) result[r.kind] = r.balance;
      return result;
    },

    /** The shop's latest movements with their entries, newest first. */
    async recentLines(shopId: string, limit = 20): Promise<LedgerLine[]> {
      const rows = await db<TransactionRow>('ledger_transactions').where({ shop_id: shopId }).orderBy('id', 'desc').limit(limit);
      return linesOf(db, rows);
    },

    async findByKey(idempotencyKey: string, trx: Knex = db): Promise<LedgerLine | undefined> {
      return findByKeyIn(trx, idempotencyKey);
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;

/**
 * Transactions that break double entry: entries not summing to zero, fewer than two
 * entries, or an entry on another shop's account. Empty when the ledger is healthy.
 * The database refuses all three at commit; this finds what slipped past it anyway
 * (triggers disabled, a restore from elsewhere).
 */
export async function checkInvariants(db: Knex): Promise<InvariantViolation[]> {
  const { rows } = (await db.raw(`
    SELECT t.id, t.idempotency_key,
           COALESCE(SUM(e.amount_fen), 0)::bigint AS sum_fen,
           COUNT(e.id)::bigint AS entry_count,
           COUNT(*) FILTER (WHERE a.shop_id <> t.shop_id)::bigint AS foreign_count
      FROM ledger_transactions t
      LEFT JOIN ledger_entries e ON e.transaction_id = t.id
      LEFT JOIN ledger_accounts a ON a.id = e.account_id
     GROUP BY t.id, t.idempotency_key
    HAVING COALESCE(SUM(e.amount_fen), 0) <> 0
        OR COUNT(e.id) < 2
        OR COUNT(*) FILTER (WHERE a.shop_id <> t.shop_id) > 0
     ORDER BY t.id`)) as {
    rows: Array<{ id: number; idempotency_key: string; sum_fen: number; entry_count: number; foreign_count: number }>;
  };
  return rows.map((r) => {
    const problems: InvariantProblem[] = [];
    if (r.sum_fen !== 0) problems.push('unbalanced');
    if (r.entry_count < 2) problems.push('too_few_entries');
    if (r.foreign_count > 0) problems.push('foreign_account');
    return { transactionId: r.id, idempotencyKey: r.idempotency_key, sumFen: r.sum_fen, entryCount: r.entry_count, problems };
  });
}
