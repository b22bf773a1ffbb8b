import type { Knex } from 'knex';
import type { EntityIdentity } from '../../domain/verification';

/** The number a verified merchant holds, by its keyed hash (security/pii.ts identityKey). */
export interface IdentityKeyRow {
  key: string;
  merchant_id: string;
  kind: EntityIdentity['kind'];
  case_id: string;
  claimed_at: Date;
}

/** Another merchant that filed or holds the same number, as the reviewer sees it. */
export interface DuplicateIdentity {
  merchantId: string;
  /** Holds the number: it was verified with it. */
  verified: boolean;
  /** Its cases that filed the number, oldest first. */
  caseIds: string[];
}

export class IdentityTakenError extends Error {
  constructor(readonly kind: EntityIdentity['kind']) {
    super(`this ${kind === 'uscc' ? 'USCC' : 'ID number'} belongs to another merchant`);
  }
}

const UNIQUE_VIOLATION = '23505';

export function createIdentityKeyRepository(db: Knex) {
  return {
    /** The key of the case's latest submission that has one, with its kind. */
    async latestIdentityOf(caseId: string, trx: Knex = db): Promise<{ key: string; kind: EntityIdentity['kind'] } | undefined> {
      const row = await trx('verification_submissions as s')
        .join('verification_cases as c', 'c.id', 's.case_id')
        .where('s.case_id', caseId)
        .whereNotNull('s.identity_key')
        .orderBy('s.seq', 'desc')
        .first<{ identity_key: string; entity_type: string } | undefined>('s.identity_key', 'c.entity_type');
      return row && { key: row.identity_key, kind: row.entity_type === 'individual' ? 'resident_id' : 'uscc' };
    },

    async holderOf(key: string, trx: Knex = db): Promise<IdentityKeyRow | undefined> {
      return trx<IdentityKeyRow>('identity_keys').where({ key }).first();
    },

    /**
     * The merchant holds this number from now on, and no other (its earlier number is
     * released: an approved change of entity). Refused if another merchant holds it; the
     * primary key settles two approvals racing for one number. Safe to run twice.
     */
    async claim(c: { key: string; kind: EntityIdentity['kind']; merchantId: string; caseId: string }, trx: Knex): Promise<void> {
      const holder = await trx<IdentityKeyRow>('identity_keys').where({ key: c.key }).forUpdate().first();
      if (holder && holder.merchant_id !== c.merchantId) throw new IdentityTakenError(c.kind);
      if (holder) return;
      await trx('identity_keys').where({ merchant_id: c.merchantId }).delete();
      try {
        await trx('identity_keys').insert({ key: c.key, kind: c.kind, merchant_id: c.merchantId, case_id: c.caseId });
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new IdentityTakenError(c.kind);
        throw err;
      }
    },

    /**
     * Every other merchant that filed this number in any case, or holds it: what a
     * reviewer must see before approving. Read by key only, never by clear value.
     */
    async duplicatesOf(key: string, merchantId: string): Promise<DuplicateIdentity[]> {
      const filed = await db('verification_submissions as s')
        .join('verification_cases as c', 'c.id', 's.case_id')
        .where('s.identity_key', key)
        .whereNot('c.merchant_id', merchantId)
        .groupBy('c.merchant_id', 'c.id')
        .select('c.merchant_id', 'c.id', db.raw('min(c.submitted_at) as first_at'))
        .orderBy('first_at');
      const holder = await db<IdentityKeyRow>('identity_keys').where({ key }).whereNot({ merchant_id: merchantId }).first();
      const byMerchant = new Map<string, DuplicateIdentity>();
      if (holder) byMerchant.set(holder.merchant_id, { merchantId: holder.merchant_id, verified: true, caseIds: [] });
      for (const row of filed as Array<{ merchant_id: string; id: string }>) {
        const entry = byMerchant.get(row.merchant_id) ?? { merchantId: row.merchant_id, verified: false, caseIds: [] };
        entry.caseIds.push(row.id);
        byMerchant.set(row.merchant_id, entry);
      }
      return [...byMerchant.values()];
    },
  };
}

export type IdentityKeyRepository = ReturnType<typeof createIdentityKeyRepository>;
