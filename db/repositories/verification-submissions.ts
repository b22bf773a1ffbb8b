import type { Knex } from 'knex';
import type { PiiVault } from '../../security/pii';
import { entityIdentity, type EntityIdentity, type VerificationSubmission } from '../../domain/verification';
import { maskBankCard, maskIdNumber, maskUscc } from '../../domain/identity';

/** A submission as shown to a reader: personal data masked unless the role may see it. */
export interface SubmissionView {
  seq: number;
  submittedAt: Date;
  idNumber?: string;
  uscc?: string;
  legalRepresentative?: { name: string; idNumber: string };
  bankCard?: { bankName: string; accountNumber: string };
  documents: VerificationSubmission['documents'];
  boundStores: Array<{ platform: string; storeId: string; realNameEntity: { name: string } }>;
}

interface SubmissionRow {
  case_id: string;
  seq: number;
  id_number_cipher: string | null;
  id_number_masked: string | null;
  uscc_cipher: string | null;
  uscc_masked: string | null;
  legal_rep_name: string | null;
  legal_rep_id_cipher: string | null;
  legal_rep_id_masked: string | null;
  bank_name: string | null;
  bank_card_cipher: string | null;
  bank_card_masked: string | null;
  documents: VerificationSubmission['documents'];
  bound_stores: SubmissionView['boundStores'];
  submitted_at: Date;
  identity_key: string | null;
}

export function createVerificationSubmissionRepository(db: Knex, vault: PiiVault) {
  const seal = (v: string | undefined) => (v === undefined ? null : vault.seal(v));

  /** insert's statement, not yet run: to run with others as one (db/one-statement.ts). */
  const submissionInsert = (caseId: string, seq: number, s: VerificationSubmission, submittedAt: Date, trx: Knex = db): Knex.QueryBuilder => {
    const identity = entityIdentity(s);
    return trx('verification_submissions').insert({
      case_id: caseId,
      seq,
      identity_key: identity ? vault.identityKey(identity) : null,
      id_number_cipher: seal(s.idNumber),
      id_number_masked: s.idNumber === undefined ? null : maskIdNumber(s.idNumber),
      uscc_cipher: seal(s.uscc),
      uscc_masked: s.uscc === undefined ? null : maskUscc(s.uscc),
      legal_rep_name: s.legalRepresentative?.name ?? null,
      legal_rep_id_cipher: seal(s.legalRepresentative?.idNumber),
      legal_rep_id_masked: s.legalRepresentative ? maskIdNumber(s.legalRepresentative.idNumber) : null,
      bank_name: s.bankCard?.bankName ?? null,
      bank_card_cipher: seal(s.bankCard?.accountNumber),
      bank_card_masked: s.bankCard ? maskBankCard(s.bankCard.accountNumber) : null,
      documents: JSON.stringify(s.documents),
      // A bound store's identifiers of the entity duplicate the case's own; keep names only.
      bound_stores: JSON.stringify(
        (s.boundStores ?? []).map((b) => ({ platform: b.platform, storeId: b.storeId, realNameEntity: { name: b.realNameEntity.name } })),
      ),
      submitted_at: submittedAt,
    });
  };

  return {
    /** The keyed hash of the entity's own number (resident ID or USCC), if the submission has one. */
    identityKeyOf(s: VerificationSubmission): { key: string; identity: EntityIdentity } | undefined {
      const identity = entityIdentity(s);
      return identity && { key: vault.identityKey(identity), identity };
    },

    async insert(caseId: string, seq: number, s: VerificationSubmission, submittedAt: Date, trx: Knex = db) {
      await submissionInsert(caseId, seq, s, submittedAt, trx);
    },

    submissionInsert,

    async nextSeq(caseId: string): Promise<number> {
      const row = await db('verification_submissions').where({ case_id: caseId }).max<{ max: number | null }>('seq as max').first();
      return (row?.max ?? 0) + 1;
    },

    /** Every submission of a case, oldest first; `reveal` decides clear or masked. */
    async list(caseId: string, reveal: boolean): Promise<SubmissionView[]> {
      const rows = await db<SubmissionRow>('verification_submissions').where({ case_id: caseId }).orderBy('seq');
      const show = (cipher: string | null, masked: string | null) =>
        cipher === null ? undefined : reveal ? vault.open(cipher) : (masked ?? undefined);
      return rows.map((r) => ({
          seq: r.seq,
          submittedAt: r.submitted_at,
          idNumber: show(r.id_number_cipher, r.id_number_masked),
          uscc: show(r.uscc_cipher, r.uscc_masked),
          legalRepresentative:
            r.legal_rep_name === null
              ? undefined
              : { name: r.legal_rep_name, idNumber: show(r.legal_rep_id_cipher, r.legal_rep_id_masked) ?? '' },
          bankCard:
            r.bank_name === null
              ? undefined
              : { bankName: r.bank_name, accountNumber: show(r.bank_card_cipher, r.bank_card_masked) ?? '' },
          documents: r.documents,
          boundStores: r.bound_stores,
      }));
    },
  };
}

export type VerificationSubmissionRepository = ReturnType<typeof createVerificationSubmissionRepository>;
