/**
 * Keys the identity numbers filed before migration 009 (or re-keys all of them after
 * IDENTITY_HASH_KEY changed), then lets every verified merchant hold the number it was
 * verified with. SQL cannot do it: the numbers are sealed with PII_ENCRYPTION_KEY and the
 * hash needs IDENTITY_HASH_KEY, neither of which the database sees.
 *
 *   npm run backfill-identity-keys              (keys what has no key; safe to run again)
 *   npm run backfill-identity-keys -- --rekey   (after a change of IDENTITY_HASH_KEY)
 *
 * Two verified merchants with the same number cannot both hold it: the first verified keeps
 * it, the others are listed (merchant ids only) for ops to settle with a reviewer.
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { loadConfig } from '../config/config';
import { createIdentityKeyRepository, IdentityTakenError } from '../db/repositories/identity-keys';
import { entityIdentity, type EntityType } from '../domain/verification';
import { piiVaultFrom, type PiiVault } from '../security/pii';
import { runWhenMain, withMigratedDb } from './support/main';

const PAGE = 500;

export interface BackfillReport {
  submissionsKeyed: number;
  merchantsClaimed: number;
  /** Verified merchants whose number another verified merchant already holds. */
  conflicts: Array<{ merchantId: string; heldBy: string }>;
}

interface UnkeyedRow {
  case_id: string;
  seq: number;
  entity_type: EntityType;
  id_number_cipher: string | null;
  uscc_cipher: string | null;
}

async function keySubmissions(db: Knex, vault: PiiVault): Promise<number> {
  let keyed = 0;
  let after: [string, number] = ['', 0];
  for (;;) {
    const rows: UnkeyedRow[] = await db('verification_submissions as s')
      .join('verification_cases as c', 'c.id', 's.case_id')
      .whereNull('s.identity_key')
      .whereRaw('(s.case_id, s.seq) > (?, ?)', after)
      .orderBy([{ column: 's.case_id' }, { column: 's.seq' }])
      .limit(PAGE)
      .select('s.case_id', 's.seq', 'c.entity_type', 's.id_number_cipher', 's.uscc_cipher');
    if (rows.length === 0) return keyed;
    for (const row of rows) {
      const open = (sealed: string | null) => (sealed === null ? undefined : vault.open(sealed));
      const identity = entityIdentity({ entityType: row.entity_type, idNumber: open(row.id_number_cipher), uscc: open(row.uscc_cipher) });
      if (identity) {
        await db('verification_submissions').where({ case_id: row.case_id, seq: row.seq }).update({ identity_key: vault.identityKey(identity) });
        keyed += 1;
      }
      after = [row.case_id, row.seq];
    }
  }
}

/** Verified merchants that hold no number yet, each with the case that verified it last. */
async function claimForVerifiedMerchants(db: Knex): Promise<Pick<BackfillReport, 'merchantsClaimed' | 'conflicts'>> {
  const identityKeys = createIdentityKeyRepository(db);
  const unclaimed: Array<{ merchant_id: string; case_id: string }> = await db
    .select('m.id as merchant_id', 'last.id as case_id')
    .from('merchants as m')
    .joinRaw(
      `CROSS JOIN LATERAL (SELECT c.id FROM verification_cases c WHERE c.merchant_id = m.id AND c.status = 'approved'
        ORDER BY c.closed_at DESC NULLS LAST, c.submitted_at DESC LIMIT 1) last`,
    )
    .where('m.verification_status', 'verified')
    .whereNotExists(db('identity_keys as k').whereRaw('k.merchant_id = m.id'))
    // First verified first: the earliest merchant keeps a number two of them were verified with.
    .orderBy([{ column: 'm.verified_at' }, { column: 'm.id' }]);
  let merchantsClaimed = 0;
  const conflicts: BackfillReport['conflicts'] = [];
  for (const { merchant_id: merchantId, case_id: caseId } of unclaimed) {
    const identity = await identityKeys.latestIdentityOf(caseId);
    if (!identity) continue;
    try {
      await db.transaction((trx) => identityKeys.claim({ ...identity, merchantId, caseId }, trx));
      merchantsClaimed += 1;
    } catch (err) {
      if (!(err instanceof IdentityTakenError)) throw err;
      const holder = await identityKeys.holderOf(identity.key);
      conflicts.push({ merchantId, heldBy: holder?.merchant_id ?? 'unknown' });
    }
  }
  return { merchantsClaimed, conflicts };
}

export async function backfillIdentityKeys(db: Knex, vault: PiiVault, options: { rekey?: boolean } = {}): Promise<BackfillReport> {
  if (options.rekey) {
    // Keys under the old hash key match nothing any more: compute them all again.
    await db.transaction(async (trx) => {
      await trx('identity_keys').delete();
      await trx('verification_submissions').update({ identity_key: null });
    });
  }
  const submissionsKeyed = await keySubmissions(db, vault);
  return { submissionsKeyed, ...(await claimForVerifiedMerchants(db)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rekey: { type: 'boolean', default: false } } });
  const config = loadConfig();
  await withMigratedDb({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR }, async (db, described) => {
    const report = await backfillIdentityKeys(db, piiVaultFrom(config), { rekey: values.rekey });
    console.log(`${described}: ${report.submissionsKeyed} submissions keyed, ${report.merchantsClaimed} merchants hold their number`);
    for (const c of report.conflicts) console.log(`  merchant ${c.merchantId}: its number is held by merchant ${c.heldBy}; settle it in review`);
    if (report.conflicts.length > 0) process.exitCode = 2;
  });
}

runWhenMain(module, main);
