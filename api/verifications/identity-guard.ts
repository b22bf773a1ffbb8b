import type { Knex } from 'knex';
import { createIdentityKeyRepository } from '../../db/repositories/identity-keys';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import { IDENTITY_LABEL, type EntityIdentity, type VerificationSubmission } from '../../domain/verification';
import type { PiiVault } from '../../security/pii';
import { conflict } from '../errors';

/**
 * One identity number, one merchant: a number another merchant is verified with is a 409,
 * checked before a case starts, before a resubmission, and before an approval. The message
 * names neither the number nor the holder (the caller may be a merchant); the reviewer
 * sees the holder on the case. The unique index settles what slips past (two approvals racing).
 */
export function createIdentityGuard(db: Knex, vault: PiiVault) {
  const identityKeys = createIdentityKeyRepository(db);
  const submissions = createVerificationSubmissionRepository(db, vault);

  async function assertFree(key: string, kind: EntityIdentity['kind'], merchantId: string): Promise<void> {
    const holder = await identityKeys.holderOf(key);
    if (holder && holder.merchant_id !== merchantId) {
      throw conflict(`this ${IDENTITY_LABEL[kind]} belongs to another merchant: one identity number verifies one merchant`, {
        reason: 'identity_taken',
      });
    }
  }

  return {
    async assertSubmissionFree(s: VerificationSubmission, merchantId: string): Promise<void> {
      const keyed = submissions.identityKeyOf(s);
      if (keyed) await assertFree(keyed.key, keyed.identity.kind, merchantId);
    },

    /** Before an approval: the number the case filed last. */
    async assertCaseFree(caseId: string, merchantId: string): Promise<void> {
      const filed = await identityKeys.latestIdentityOf(caseId);
      if (filed) await assertFree(filed.key, filed.kind, merchantId);
    },
  };
}
