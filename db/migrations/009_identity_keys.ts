import type { Knex } from 'knex';

/**
 * One identity number, one merchant (issue 9).
 *
 * - `verification_submissions.identity_key`: the keyed hash (HMAC-SHA256, hex) of the
 *   entity's own number (a person's resident ID, a company's USCC), beside its ciphertext,
 *   so a reviewer sees every merchant that filed the same number.
 * - `identity_keys`: the number each verified merchant holds. The primary key makes one
 *   number belong to one merchant; the unique merchant makes one merchant hold one number
 *   (an approved change of entity moves it).
 * - `verification_cases.kind`: a first verification or a verified merchant's change of entity.
 *
 * Rows from before this migration get no key here: the hash needs IDENTITY_HASH_KEY and the
 * clear number needs PII_ENCRYPTION_KEY, which the database never sees. Run
 * `npm run backfill-identity-keys` (scripts/backfill-identity-keys.ts) once after deploying.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('verification_cases', (t) => {
    t.text('kind').notNullable().defaultTo('verification');
    t.check(`kind IN ('verification', 'entity_change')`, [], 'verification_cases_kind_check');
  });
  await db.schema.alterTable('verification_submissions', (t) => {
    t.text('identity_key');
    t.index(['identity_key']);
  });
  await db.schema.createTable('identity_keys', (t) => {
    t.text('key').primary();
    t.text('merchant_id').notNullable().unique().references('merchants.id');
    t.text('kind').notNullable();
    t.text('case_id').notNullable().references('verification_cases.id');
    t.timestamp('claimed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.check(`kind IN ('resident_id', 'uscc')`, [], 'identity_keys_kind_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('identity_keys');
  await db.schema.alterTable('verification_submissions', (t) => {
    t.dropIndex(['identity_key']);
    t.dropColumn('identity_key');
  });
  await db.schema.alterTable('verification_cases', (t) => {
    t.dropChecks(['verification_cases_kind_check']);
    t.dropColumn('kind');
  });
}
