import { randomBytes } from 'node:crypto';
import { migratorConfig } from '../../db/migrations';
import { createIdentityKeyRepository, IdentityTakenError } from '../../db/repositories/identity-keys';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import { createPiiVault, type PiiVault } from '../../security/pii';
import { backfillIdentityKeys } from '../../scripts/backfill-identity-keys';
import { enterpriseRequest, individualRequest, residentIdOf } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/db';

const randomKey = () => randomBytes(32).toString('base64');
const ENCRYPTION_KEY = randomKey();
/** A vault over this suite's encryption key and a hash key of its own. */
const vaultWithHashKey = (hashKey: string) => createPiiVault(ENCRYPTION_KEY, hashKey);

describe('identity keys in the database', () => {
  let t: TestDb;
  let vault: PiiVault;
  beforeAll(async () => {
    // Migrates down and up in a test: that is the schema owner's work, not the app role's.
    t = await createTestDb({ as: 'owner' });
    vault = vaultWithHashKey(randomKey());
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** A case as the API records it; `verified` approves it as the verification workflow would. */
  async function fileCase(merchantId: string, body: ReturnType<typeof individualRequest>, verified: boolean, at: Date) {
    const caseId = `vc_${merchantId.replace(/[^a-z0-9]/gi, '')}${randomBytes(6).toString('hex')}`;
    await createMerchantRepository(t.db).ensureMerchant({ id: merchantId, entityType: body.entityType, legalName: body.legalName });
    await createVerificationCaseRepository(t.db).insertCase({
      id: caseId, merchantId, workflowId: `verification:${merchantId}`, runId: 'r', entityType: body.entityType, legalName: body.legalName, submittedAt: at,
    });
    await createVerificationSubmissionRepository(t.db, vault).insert(caseId, 1, body, at);
    if (verified) {
      await t.db('verification_cases').where({ id: caseId }).update({ status: 'approved', closed_at: at });
      await t.db('merchants').where({ id: merchantId }).update({ verification_status: 'verified', verified_at: at });
    }
    return caseId;
  }
  const identityRows = () => t.db('identity_keys').orderBy('merchant_id').select('merchant_id', 'kind', 'key');
  const day = (n: number) => new Date(Date.UTC(2026, 0, n));

  test('one number, one merchant: a second merchant cannot hold it, a racing insert hits the primary key', async () => {
    const caseA = await fileCase('m-key-a', individualRequest('m-key-a'), false, day(1));
    const keys = createIdentityKeyRepository(t.db);
    const identity = await keys.latestIdentityOf(caseA);
    expect(identity).toEqual({ kind: 'resident_id', key: vault.identityKey({ kind: 'resident_id', number: residentIdOf('m-key-a') }) });
    await t.db.transaction((trx) => keys.claim({ ...identity!, merchantId: 'm-key-a', caseId: caseA }, trx));
    await t.db.transaction((trx) => keys.claim({ ...identity!, merchantId: 'm-key-a', caseId: caseA }, trx)); // again: no change
    await createMerchantRepository(t.db).ensureMerchant({ id: 'm-key-b', entityType: 'individual', legalName: 'x' });
    await expect(t.db.transaction((trx) => keys.claim({ ...identity!, merchantId: 'm-key-b', caseId: caseA }, trx))).rejects.toBeInstanceOf(IdentityTakenError);
    await expect(t.db('identity_keys').insert({ key: identity!.key, kind: 'resident_id', merchant_id: 'm-key-b', case_id: caseA })).rejects.toThrow(/duplicate key/);
    expect(await identityRows()).toEqual([{ merchant_id: 'm-key-a', kind: 'resident_id', key: identity!.key }]);
    await t.db('identity_keys').delete();
  });

  test('the backfill keys rows from before the migration and lets the first verified merchant hold a shared number', async () => {
    await t.db('identity_keys').delete();
    const company = enterpriseRequest('m-old-co');
    await fileCase('m-old-first', individualRequest('m-old-first'), true, day(2));
    // The same person verified again under another merchant, before numbers were unique.
    await fileCase('m-old-second', { ...individualRequest('m-old-second'), idNumber: residentIdOf('m-old-first').toLowerCase() }, true, day(3));
    await fileCase('m-old-co', company, true, day(4));
    await fileCase('m-old-open', individualRequest('m-old-open'), false, day(5));
    await t.db('verification_submissions').update({ identity_key: null }); // as migration 009 leaves them

    const report = await backfillIdentityKeys(t.db, vault);
    expect(report.conflicts).toEqual([{ merchantId: 'm-old-second', heldBy: 'm-old-first' }]);
    expect(report.merchantsClaimed).toBe(2);
    expect(report.submissionsKeyed).toBeGreaterThanOrEqual(4);
    const personKey = vault.identityKey({ kind: 'resident_id', number: residentIdOf('m-old-first') });
    expect(await identityRows()).toEqual([
      { merchant_id: 'm-old-co', kind: 'uscc', key: vault.identityKey({ kind: 'uscc', number: company.uscc! }) },
      { merchant_id: 'm-old-first', kind: 'resident_id', key: personKey },
    ]);
    expect(await createIdentityKeyRepository(t.db).duplicatesOf(personKey, 'm-old-second')).toEqual([
      { merchantId: 'm-old-first', verified: true, caseIds: [expect.any(String)] },
    ]);
    expect(Number((await t.db('verification_submissions').whereNull('identity_key').count({ n: '*' }).first())!.n)).toBe(0);

    // Again: nothing left to do, the same conflict reported.
    expect(await backfillIdentityKeys(t.db, vault)).toEqual({ submissionsKeyed: 0, merchantsClaimed: 0, conflicts: report.conflicts });

    // A new hash key: every key is computed again under it.
    const rotated = vaultWithHashKey(randomKey());
    const keyOf = (v: PiiVault) => v.identityKey({ kind: 'resident_id', number: residentIdOf('m-old-first') });
    await backfillIdentityKeys(t.db, rotated, { rekey: true });
    expect(await t.db('identity_keys').where({ merchant_id: 'm-old-first' }).pluck('key')).toEqual([keyOf(rotated)]);
    expect(keyOf(rotated)).not.toBe(personKey);
  });

  test('migration 009 rolls back on its own and applies again', async () => {
    while ((await t.db.migrate.currentVersion(migratorConfig)) !== '009') await t.db.migrate.down(migratorConfig);
    await t.db.migrate.down(migratorConfig);
    expect(await t.db.schema.hasTable('identity_keys')).toBe(false);
    expect(await t.db.schema.hasColumn('verification_submissions', 'identity_key')).toBe(false);
    expect(await t.db.schema.hasColumn('verification_cases', 'kind')).toBe(false);
    await t.db.migrate.latest(migratorConfig);
    expect(await t.db.schema.hasTable('identity_keys')).toBe(true);
    expect(await t.db('verification_cases').whereNot({ kind: 'verification' })).toEqual([]);
  });
});
